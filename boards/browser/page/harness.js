// The browser board's page: runs ONNX models with onnxruntime-web (wasm) on tensors fetched from the server, PUTs the
// outputs back under results/, and times batch-1 calls with performance.now(). Driven from Python (boards/browser/board.py)
// through window.paddleEdge; the thread count comes from the page's ?threads= (onnxruntime-web reads it once).
import * as ort from './ort/ort.wasm.min.mjs';
import { decode, preprocess } from './preprocess.js';

const TYPED = {
  float32: Float32Array, float64: Float64Array, float16: Uint16Array, bool: Uint8Array, int8: Int8Array, uint8: Uint8Array,
  int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array, int64: BigInt64Array, uint64: BigUint64Array,
};
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
  if (!(tensor.type in TYPED)) throw new Error(`output ${name} is of type ${tensor.type}, which the board cannot bring back`);
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

// job: {images: [url], pre: the manifest's preprocess, out}; each image decoded and preprocessed in the page, PUT back
async function prepare(job) {
  const found = [];
  for (const [i, url] of job.images.entries()) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
    const { data, dims } = preprocess(await decode(await response.blob()), job.pre);
    found.push(await put(`${job.out}.i${i}.bin`, new ort.Tensor('float32', data, dims)));
  }
  return found;
}

// what the browser offers beyond wasm: WebGL2's renderer (SwiftShader, in software, where there is no GPU) and a WebGPU adapter
function webgl2() {
  const gl = document.createElement('canvas').getContext('webgl2');
  if (!gl) return 'unavailable';
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  return debug ? gl.getParameter(debug.UNMASKED_RENDERER_WEBGL) : 'available';
}

async function webgpu() {
  if (!('gpu' in navigator)) return 'unavailable (no navigator.gpu)';
  const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), 5000));
  const adapter = await Promise.race([navigator.gpu.requestAdapter().catch(() => null), timeout]);
  return adapter === 'timeout' ? 'unavailable (requestAdapter did not answer in 5 s)' : adapter ? 'available' : 'unavailable (no adapter)';
}

async function info() {
  return {
    webgl2: webgl2(), webgpu: await webgpu(),
    user_agent: navigator.userAgent, cross_origin_isolated: self.crossOriginIsolated,
    hardware_concurrency: navigator.hardwareConcurrency, threads: ort.env.wasm.numThreads,
    onnxruntime_web: ort.env.versions.web || ort.env.versions.common,
  };
}

window.paddleEdge = { run, prepare, info };
// Ready only once the wasm runs: a probe model (one Identity) makes onnxruntime-web load and start it, settling the
// thread count it really uses (one, with a warning, where the page is not cross-origin isolated).
try {
  const probe = await session('probe.onnx');
  await probe.run({ x: new ort.Tensor('float32', new Float32Array(1), [1]) });
  document.getElementById('status').textContent = 'ready';
  window.paddleEdgeReady = true;
} catch (e) {
  window.paddleEdgeFailed = String(e && e.message || e);
  document.getElementById('status').textContent = `failed: ${window.paddleEdgeFailed}`;
}
