// The page a person uses: draw on the pad (or drop an image), and each of the bundle's models (site.json) says what it
// sees, with its probabilities and its latency in this browser. Preprocessing is the runtime's, in preprocess.js.
import * as ort from './ort/ort.wasm.min.mjs';
import { decode, preprocess } from './preprocess.js';

const pad = document.getElementById('pad');
const pen = pad.getContext('2d', { willReadFrequently: true });
const status = document.getElementById('status');
const errors = document.getElementById('error');
const sessions = {};
let site = null;
let ready = '';
let queue = Promise.resolve();  // one classification at a time, in the order of the strokes

async function start() {
  const response = await fetch('site.json');
  if (!response.ok) throw new Error(`site.json: HTTP ${response.status} (serve the folder written by export --target web)`);
  site = await response.json();
  ort.env.wasm.wasmPaths = new URL('./ort/', location.href).href;
  ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
  const blank = preprocess({ data: new Uint8ClampedArray(4 * 28 * 28).fill(255), width: 28, height: 28 }, site.preprocess);
  for (const [precision, file] of Object.entries(site.models)) {
    const session = await ort.InferenceSession.create(file, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    await session.run({ [site.input]: new ort.Tensor('float32', blank.data, blank.dims) });  // so the latency shown is a steady one
    sessions[precision] = session;
    const panel = document.createElement('section');
    panel.className = 'model';
    panel.id = precision;
    panel.innerHTML = '<h2></h2><div class="answer">-</div><div class="latency"></div><div class="bars"></div>';
    panel.querySelector('h2').textContent = precision;
    document.querySelector('main').append(panel);
  }
  ready = `ready: onnxruntime-web ${ort.env.versions.web || ort.env.versions.common}, wasm, ${ort.env.wasm.numThreads} thread(s)`;
  status.textContent = ready;
}

function softmax(row) {
  const top = Math.max(...row), e = row.map((v) => Math.exp(v - top)), sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

function show(precision, probabilities, ms) {
  const panel = document.getElementById(precision);
  const label = (i) => (site.labels.length === probabilities.length ? site.labels[i] : String(i));
  const best = probabilities.indexOf(Math.max(...probabilities));
  panel.querySelector('.answer').textContent = label(best);
  panel.querySelector('.latency').textContent = `${ms.toFixed(2)} ms in this browser`;
  panel.querySelector('.bars').replaceChildren(...probabilities.map((p, i) => {
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.innerHTML = '<span></span><div></div><span></span>';
    bar.children[0].textContent = label(i);
    bar.children[1].style.width = `${Math.round(p * 160)}px`;
    bar.children[2].textContent = `${(100 * p).toFixed(1)} %`;
    return bar;
  }));
  panel.dataset.answer = label(best);
  panel.dataset.probabilities = JSON.stringify(probabilities);
}

async function classify(imageData) {
  const { data, dims } = preprocess(imageData, site.preprocess);
  const feeds = { [site.input]: new ort.Tensor('float32', data, dims) };
  for (const [precision, session] of Object.entries(sessions)) {
    const begin = performance.now();
    const out = await session.run(feeds);
    const ms = performance.now() - begin;
    const row = Array.from(out[session.outputNames[0]].data);
    show(precision, site.probabilities ? row : softmax(row), ms);
  }
  errors.textContent = '';
  status.textContent = ready;
  document.body.dataset.predictions = String(Number(document.body.dataset.predictions || 0) + 1);
}

function clear() {
  pen.fillStyle = '#fff';
  pen.fillRect(0, 0, pad.width, pad.height);
}

function run(step) {
  queue = queue.then(step).catch((e) => { errors.textContent = String(e && e.message || e); });
}

let drawing = false;
pad.addEventListener('pointerdown', (e) => {
  drawing = true;
  pad.setPointerCapture(e.pointerId);
  pen.beginPath();
  pen.moveTo(e.offsetX, e.offsetY);
});
pad.addEventListener('pointermove', (e) => {
  if (!drawing) return;
  pen.lineWidth = 20; pen.lineCap = 'round'; pen.lineJoin = 'round'; pen.strokeStyle = '#000';
  pen.lineTo(e.offsetX, e.offsetY);
  pen.stroke();
});
pad.addEventListener('pointerup', () => {
  if (!drawing || !site) return;
  drawing = false;
  const pixels = pen.getImageData(0, 0, pad.width, pad.height);
  run(() => classify(pixels));
});
document.getElementById('clear').addEventListener('click', clear);

async function dropped(file) {
  if (!file || !file.type.startsWith('image/')) throw new Error(`${file ? file.name : 'that'} is not an image file: drop a PNG, JPEG or BMP`);
  const image = await decode(file);
  clear();
  const bitmap = await createImageBitmap(file, { imageOrientation: 'none' });
  const fit = Math.min(pad.width / bitmap.width, pad.height / bitmap.height);
  pen.drawImage(bitmap, 0, 0, bitmap.width * fit, bitmap.height * fit);
  await classify(image);
}
const drop = document.getElementById('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); run(() => dropped(e.dataTransfer.files[0])); });
document.getElementById('file').addEventListener('change', (e) => run(() => dropped(e.target.files[0])));

clear();
try {
  await start();
  document.body.dataset.ready = 'true';
} catch (e) {
  errors.textContent = `the page could not start: ${e && e.message || e}`;
  status.textContent = 'failed';
}
