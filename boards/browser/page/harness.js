// The browser board's page: runs ONNX models with onnxruntime-web (the backend named by ?ep=: wasm, webgpu or webgl),
// and Paddle.js models with paddlejs-core and its WebGL backend (classic scripts in pjs/, named in order by ?paddlejs=,
// loaded before the page is ready), on tensors fetched from the server; PUTs the outputs back under results/, and times
// calls with performance.now(). Driven from Python (boards/browser/board.py) through window.paddleEdge; the wasm thread
// count comes from the page's ?threads= (onnxruntime-web reads it once).
import { decode, preprocess } from './preprocess.js';

const TYPED = {
  float32: Float32Array, float64: Float64Array, float16: Uint16Array, bool: Uint8Array, int8: Int8Array, uint8: Uint8Array,
  int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array, int64: BigInt64Array, uint64: BigUint64Array,
};
const params = new URLSearchParams(location.search);
const EP = params.get('ep') || 'wasm';
const ENTRY = params.get('entry') || 'ort.wasm.min.mjs'; // the backend's module in ort/ (boards/browser/onnxruntime_web.py)
// a GPU backend's session is made with ONNX Runtime's verbose log on, for the node placements it prints to the console
// (which nodes run on the GPU, which on its CPU provider); its runs log warnings only
const LOGGED = EP === 'webgpu' ? { logSeverityLevel: 0, logVerbosityLevel: 1 } : {};
const RUN_OPTIONS = { logSeverityLevel: 2 };
let ort = null;
const sessions = new Map();

async function bytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

// onnxruntime-web's own refusals (an op, a type or an input it cannot take), told apart from the page's other errors
async function refused(promise) {
  try {
    return await promise;
  } catch (e) {
    throw new Error(`${REFUSED} ${e && e.message || e}`);
  }
}
const REFUSED = 'onnxruntime-web refused:';

async function session(model) {
  if (!sessions.has(model)) {
    sessions.set(model, await refused(ort.InferenceSession.create(model, { executionProviders: [EP], graphOptimizationLevel: 'all', ...LOGGED })));
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

// `call` once to warm up, then `calls` times, each timed with performance.now(): the seconds of each
async function timeCalls(call, calls) {
  await call();
  const found = [];
  for (let i = 0; i < calls; i++) {
    const start = performance.now();
    await call();
    found.push((performance.now() - start) / 1000);
  }
  return found;
}

// job: {model, runs: [{inputs: [{name, dtype, shape, url}], out}], time: [{inputs, calls}]}
// returns {load_ms, outputs: [[{name, dtype, shape}] per run], seconds: [[...] per entry of time]}
async function run(job) {
  const start = performance.now();
  const s = await session(job.model);
  const loadMs = performance.now() - start;
  const outputs = [];
  for (const r of job.runs) {
    const result = await refused(s.run(await feeds(r.inputs), RUN_OPTIONS));
    outputs.push(await Promise.all(s.outputNames.map((name, j) => put(`${r.out}.o${j}.bin`, result[name]))));
  }
  const seconds = [];
  for (const t of job.time) {
    const one = await feeds(t.inputs);
    seconds.push(await timeCalls(() => s.run(one, RUN_OPTIONS), t.calls));
  }
  return { load_ms: loadMs, outputs, seconds };
}

// job: {probes: [{index, url}]}, each a model of one node: made into a session on the backend with graph optimizations
// off and released; returns {index: onnxruntime-web's error} for those it refused (boards/browser/kernels.py)
async function kernels(job) {
  const refusals = {};
  for (const probe of job.probes) {
    try {
      const s = await ort.InferenceSession.create(probe.url, { executionProviders: [EP], graphOptimizationLevel: 'disabled' });
      await s.release();
    } catch (e) {
      refusals[probe.index] = String(e && e.message || e);
    }
  }
  return refusals;
}

let paddlejs = null; // the page's one Paddle.js Runner: a second init() would reset the backend the first one uses

// the Runner of model.json (Paddle.js runs one sample at a time; the model fixes the input's size)
async function paddlejsRunner(model) {
  if (paddlejs && paddlejs.model !== model) throw new Error(`this page runs one Paddle.js model (${paddlejs.model}), not ${model}`);
  if (!paddlejs) {
    const runner = new window.paddlejs.core.Runner({ modelPath: model, needPreheat: false });
    await runner.init();
    paddlejs = { model, runner };
  }
  return paddlejs.runner;
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`Paddle.js's script ${src}`));
    document.head.appendChild(script);
  });
}

// job: as run's, each input one float32 [N, C, H, W] tensor whose samples go through Paddle.js one by one; each run's
// output comes back as [N, the model's output per sample]
async function runPaddlejs(job) {
  const start = performance.now();
  const runner = await paddlejsRunner(job.model);
  const loadMs = performance.now() - start;
  const predict = async (data, spec) => {
    const size = data.length / spec.shape[0];
    const rows = [];
    for (let i = 0; i < spec.shape[0]; i++) {
      // a plain Array: predictWithFeed takes anything else for an ImageData ({width, height, data})
      const sample = Array.from(data.subarray(i * size, (i + 1) * size));
      rows.push(Float32Array.from(await runner.predictWithFeed(sample, undefined, [1, ...spec.shape.slice(1)])));
    }
    return rows;
  };
  const outputs = [];
  for (const r of job.runs) {
    const [spec] = r.inputs;
    const rows = await predict(new Float32Array(await bytes(spec.url)), spec);
    const joined = new Float32Array(rows.length * rows[0].length);
    rows.forEach((row, i) => joined.set(row, i * row.length));
    outputs.push([await put(`${r.out}.o0.bin`, { type: 'float32', data: joined, dims: [rows.length, rows[0].length] })]);
  }
  const seconds = [];
  for (const t of job.time) {
    const [spec] = t.inputs;
    const one = new Float32Array(await bytes(spec.url));
    seconds.push(await timeCalls(() => predict(one, spec), t.calls));
  }
  return { load_ms: loadMs, outputs, seconds };
}

// the op names Paddle.js's WebGL backend registered ("conv2d", "pool2d_max", ...)
function paddlejsOps() {
  const prefix = `${window.GLOBALS.backend}_`;
  return Object.keys(window.GLOBALS.opRegistry.ops).filter((name) => name.startsWith(prefix)).map((name) => name.slice(prefix.length));
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
  if (adapter === 'timeout') return 'unavailable (requestAdapter did not answer in 5 s)';
  if (!adapter) return 'unavailable (no adapter)';
  const { vendor, architecture, device, description } = adapter.info || {};
  return `available: ${[vendor, architecture, device, description].filter(Boolean).join(' ') || 'an adapter without a description'}`;
}

async function info() {
  return {
    webgl2: webgl2(), webgpu: await webgpu(),
    user_agent: navigator.userAgent, cross_origin_isolated: self.crossOriginIsolated,
    hardware_concurrency: navigator.hardwareConcurrency, threads: ort.env.wasm.numThreads, ep: EP,
    onnxruntime_web: ort.env.versions.web || ort.env.versions.common, paddlejs_backend: window.GLOBALS ? window.GLOBALS.backend : 'not loaded',
  };
}

window.paddleEdge = { run, kernels, prepare, info, runPaddlejs, paddlejsOps };
// Ready only once the backend runs: a probe model (one Identity) makes onnxruntime-web load and start it (its wasm, its
// GPU device), settling the wasm thread count it really uses (one, with a warning, where the page is not cross-origin
// isolated).
try {
  ort = await import(`./ort/${ENTRY}`);
  ort.env.wasm.numThreads = Number(params.get('threads') || 1);
  ort.env.wasm.wasmPaths = new URL('./ort/', location.href).href;
  for (const script of (params.get('paddlejs') || '').split(',').filter(Boolean)) await loadScript(`pjs/${script}`);
  const probe = await session('probe.onnx');
  await probe.run({ x: new ort.Tensor('float32', new Float32Array(1), [1]) }, RUN_OPTIONS);
  document.getElementById('status').textContent = 'ready';
  window.paddleEdgeReady = true;
} catch (e) {
  window.paddleEdgeFailed = String(e && e.message || e);
  document.getElementById('status').textContent = `failed: ${window.paddleEdgeFailed}`;
}
