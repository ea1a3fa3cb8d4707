//! Anthropic, grouped as the OpenAI tests are (tests/cli/openai/): the RFC
//! 7523 jwt-bearer exchange on the wire, pinned against the independent
//! fake, with every error class ([`wire`]).

mod wire;
