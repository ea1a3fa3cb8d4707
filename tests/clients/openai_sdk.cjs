// The OpenAI Node SDK as an app uses it: OPENAI_API_KEY (what `keyless exec`
// sets) and OPENAI_BASE_URL. Prints one JSON line: what came back.
const OpenAI = require('openai');

const MODEL = 'gpt-sandbox-1';
const messages = [{ role: 'user', content: 'Say hello.' }];

async function main() {
  const client = new OpenAI({ maxRetries: 0 });
  const out = {};
  const chat = await client.chat.completions.create({ model: MODEL, messages });
  out.chat = chat.choices[0].message.content;
  const cs = await client.chat.completions.create({
    model: MODEL, messages, stream: true, stream_options: { include_usage: true },
  });
  out.chat_streamed = '';
  for await (const chunk of cs) {
    if (chunk.choices.length) out.chat_streamed += chunk.choices[0].delta.content || '';
    if (chunk.usage) out.chat_stream_usage = chunk.usage.total_tokens;
  }
  const r = await client.responses.create({ model: MODEL, input: 'Say hello.' });
  out.response = r.output_text;
  const rs = await client.responses.create({ model: MODEL, input: 'Say hello.', stream: true });
  out.response_streamed = '';
  const events = [];
  for await (const ev of rs) {
    events.push(ev.type);
    if (ev.type === 'response.output_text.delta') out.response_streamed += ev.delta;
    if (ev.type === 'response.completed') out.response_completed = ev.response.status;
  }
  out.response_events = events;
  out.models = (await client.models.list()).data.map((m) => m.id);
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(`openai_sdk.cjs: ${e.status || ''} ${e.message}`);
  process.exit(1);
});
