// The serving code a Node team would write: node:http, JSON.parse, one
// onnxruntime-node session, one run per request (TF Serving's row format).
// Usage: node server.js MODEL.onnx  — prints "listening on ADDR".
// NODE_PATH must reach onnxruntime-node (bench/serving/run.sh installs it
// into $HOME/.cache/sluice/bench/node).
'use strict';
const http = require('node:http');
const ort = require('onnxruntime-node');

async function main() {
  const model = process.argv[2];
  const session = await ort.InferenceSession.create(model);
  const input = session.inputNames[0];
  const output = session.outputNames[0];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      try {
        const rows = JSON.parse(Buffer.concat(chunks)).instances;
        const width = rows[0].length;
        const flat = new Float32Array(rows.length * width);
        rows.forEach((row, i) => flat.set(row, i * width));
        const out = await session.run({ [input]: new ort.Tensor('float32', flat, [rows.length, width]) });
        const data = out[output].data;
        const k = data.length / rows.length;
        const predictions = [];
        for (let i = 0; i < rows.length; i++) predictions.push(Array.from(data.subarray(i * k, (i + 1) * k)));
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ predictions }));
      } catch (e) {
        res.writeHead(400, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: String(e) }));
      }
    });
  });
  server.keepAliveTimeout = 120000;
  server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    console.log(`listening on ${a.address}:${a.port}`);
  });
}

main().catch((e) => { console.error(e); process.exit(1); });
