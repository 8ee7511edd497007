// Times ONNX Runtime (CPU execution provider) on one exported model for bench/compare.py.
// Usage: node run_ort.mjs MODEL.onnx INPUT.f32 N,C,H,W ITERS WARMUP THREADS OUTPUT.f32
// Input and output are raw little-endian float32; prints {"median_ms", "min_ms", "version"} as JSON.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import ort from "onnxruntime-node";

const [modelPath, inputPath, shapeText, iterText, warmupText, threadText, outputPath] = process.argv.slice(2);
const shape = shapeText.split(",").map(Number);
const bytes = readFileSync(inputPath);
const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
const session = await ort.InferenceSession.create(modelPath, {
  executionProviders: ["cpu"],
  intraOpNumThreads: Number(threadText),
  interOpNumThreads: 1,
  graphOptimizationLevel: "all",
});
const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", data, shape) };
let result;
for (let i = 0; i < Number(warmupText); ++i) result = await session.run(feeds);
const times = [];
for (let i = 0; i < Number(iterText); ++i) {
  const start = process.hrtime.bigint();
  result = await session.run(feeds);
  times.push(Number(process.hrtime.bigint() - start) / 1e6);
}
const logits = result[session.outputNames[0]].data;
writeFileSync(outputPath, Buffer.from(logits.buffer, logits.byteOffset, logits.byteLength));
times.sort((a, b) => a - b);
const version = createRequire(import.meta.url)("onnxruntime-node/package.json").version;
console.log(JSON.stringify({ median_ms: times[Math.floor(times.length / 2)], min_ms: times[0], version }));
