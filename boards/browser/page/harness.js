// The browser board's page: runs ONNX models with onnxruntime-web (wasm) on tensors fetched from the server, PUTs the
// outputs back under results/, and times batch-1 calls with performance.now(). Driven from Python (boards/browser/board.py)
// through window.paddleEdge; the thread count comes from the page's ?threads= (onnxruntime-web reads it once).
import * as ort from './ort/ort.wasm.min.mjs';

const TYPED = { float32: Float32Array, int8: Int8Array, uint8: Uint8Array, int32: Int32Array, int64: BigInt64Array };
const params = new URLSearchParams(location.search);
ort.env.wasm.numThreads = Number(params.get('threads') || 1);
ort.env.wasm.wasmPaths = new URL('./ort/', location.href).href;
const sessions = new Map();

async function bytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

async function session(model) {
  if (!sessions.has(model)) {
    sessions.set(model, await ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' }));
  }
  return sessions.get(model);
}

async function feeds(specs) {
  const out = {};
  for (const spec of specs) {
    if (!(spec.dtype in TYPED)) throw new Error(`input ${spec.name}: dtype ${spec.dtype} is not one the page handles`);
    out[spec.name] = new ort.Tensor(spec.dtype, new TYPED[spec.dtype](await bytes(spec.url)), spec.shape);
  }
  return out;
}

async function put(name, tensor) {
  const data = tensor.data;
  const response = await fetch(`results/${name}`, { method: 'PUT', body: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
  if (!response.ok) throw new Error(`PUT results/${name}: HTTP ${response.status}`);
  return { name, dtype: tensor.type, shape: Array.from(tensor.dims) };
}

// job: {model, runs: [{inputs: [{name, dtype, shape, url}], out}], time: [{inputs, calls}]}
// returns {load_ms, outputs: [[{name, dtype, shape}] per run], seconds: [[...] per entry of time]}
async function run(job) {
  const start = performance.now();
  const s = await session(job.model);
  const loadMs = performance.now() - start;
  const outputs = [];
  for (const r of job.runs) {
    const result = await s.run(await feeds(r.inputs));
    outputs.push(await Promise.all(s.outputNames.map((name, j) => put(`${r.out}.o${j}.bin`, result[name]))));
  }
  const seconds = [];
  for (const t of job.time) {
    const one = await feeds(t.inputs);
    await s.run(one);
    const found = [];
    for (let i = 0; i < t.calls; i++) {
      const start = performance.now();
      await s.run(one);
      found.push((performance.now() - start) / 1000);
    }
    seconds.push(found);
  }
  return { load_ms: loadMs, outputs, seconds };
}

async function info() {
  return {
    user_agent: navigator.userAgent, cross_origin_isolated: self.crossOriginIsolated,
    hardware_concurrency: navigator.hardwareConcurrency, threads: ort.env.wasm.numThreads,
    onnxruntime_web: ort.env.versions.web || ort.env.versions.common,
  };
}

window.paddleEdge = { run, info };
document.getElementById('status').textContent = 'ready';
window.paddleEdgeReady = true;
