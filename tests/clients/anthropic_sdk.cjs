// The Anthropic TypeScript SDK as an app uses it, credentials from wherever
// the SDK finds them (ANTHROPIC_AUTH_TOKEN, or the profile that
// `keyless exec --refresh` writes). Prints one JSON line: what came back.
//   node anthropic_sdk.cjs [calls] [gap_seconds]
// With calls > 1 it repeats messages.create and counts failures (long runs).
const Anthropic = require('@anthropic-ai/sdk');

const MODEL = 'claude-sandbox-1';
const messages = [{ role: 'user', content: 'Say hello.' }];

async function once(client) {
  const out = {};
  const m = await client.messages.create({ model: MODEL, max_tokens: 64, messages });
  out.message = m.content[0].text;
  const stream = client.messages.stream({ model: MODEL, max_tokens: 64, messages });
  let streamed = '';
  const events = [];
  for await (const ev of stream) {
    events.push(ev.type);
    if (ev.type === 'content_block_delta') streamed += ev.delta.text;
  }
  const final = await stream.finalMessage();
  out.streamed = streamed;
  out.events = [...new Set(events)];
  out.stop_reason = final.stop_reason;
  out.models = (await client.models.list()).data.map((x) => x.id);
  out.input_tokens = (await client.messages.countTokens({ model: MODEL, messages })).input_tokens;
  return out;
}

async function main() {
  const calls = Number(process.argv[2] || 1);
  const gap = Number(process.argv[3] || 0);
  const client = new Anthropic({ maxRetries: 0 });
  if (calls === 1) {
    console.log(JSON.stringify(await once(client)));
    return;
  }
  let ok = 0;
  const errors = [];
  for (let i = 0; i < calls; i++) {
    try {
      await client.messages.create({ model: MODEL, max_tokens: 16, messages });
      ok++;
    } catch (e) {
      errors.push(`${i}: ${e.status || ''} ${e.message}`.slice(0, 200));
    }
    if (i + 1 < calls) await new Promise((r) => setTimeout(r, gap * 1000));
  }
  console.log(JSON.stringify({ ok, failed: errors.length, errors }));
}

main().catch((e) => {
  console.error(`anthropic_sdk.cjs: ${e.status || ''} ${e.message}`);
  process.exit(1);
});
