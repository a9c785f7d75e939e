// The page a person uses: draw on the pad (or drop an image), and each of the bundle's models (site.json) says what it
// sees, with its probabilities and its latency in this browser. Preprocessing is the runtime's, in preprocess.js.
import * as ort from './ort/ort.wasm.min.mjs';
import { decode, preprocess } from './preprocess.js';

const pad = document.getElementById('pad');
const pen = pad.getContext('2d', { willReadFrequently: true });
const status = document.getElementById('status');
const site = await (await fetch('site.json')).json();
ort.env.wasm.wasmPaths = new URL('./ort/', location.href).href;
ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
const sessions = {};
for (const [precision, file] of Object.entries(site.models)) {
  sessions[precision] = await ort.InferenceSession.create(file, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
}
const blank = preprocess({ data: new Uint8ClampedArray(4 * 28 * 28).fill(255), width: 28, height: 28 }, site.preprocess);
for (const session of Object.values(sessions)) {  // a first call, so that the latency shown is a steady one
  await session.run({ [site.input]: new ort.Tensor('float32', blank.data, blank.dims) });
}

function softmax(row) {
  const top = Math.max(...row), e = row.map((v) => Math.exp(v - top)), sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

function show(precision, probabilities, ms) {
  const panel = document.getElementById(precision);
  const best = probabilities.indexOf(Math.max(...probabilities));
  panel.querySelector('.answer').textContent = site.labels[best];
  panel.querySelector('.latency').textContent = `${ms.toFixed(2)} ms in this browser`;
  panel.querySelector('.bars').replaceChildren(...probabilities.map((p, i) => {
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.innerHTML = `<span></span><div style="width:${Math.round(p * 160)}px"></div><span>${(100 * p).toFixed(1)} %</span>`;
    bar.firstChild.textContent = site.labels[i];
    return bar;
  }));
  panel.dataset.answer = site.labels[best];
  panel.dataset.probabilities = JSON.stringify(probabilities);
}

async function classify(imageData) {
  const { data, dims } = preprocess(imageData, site.preprocess);
  const feeds = { [site.input]: new ort.Tensor('float32', data, dims) };
  for (const [precision, session] of Object.entries(sessions)) {
    const start = performance.now();
    const out = await session.run(feeds);
    const ms = performance.now() - start;
    const row = Array.from(out[session.outputNames[0]].data);
    show(precision, site.probabilities ? row : softmax(row), ms);
  }
  status.textContent = 'done';
  document.body.dataset.predictions = String(Number(document.body.dataset.predictions || 0) + 1);
}

function clear() {
  pen.fillStyle = '#fff';
  pen.fillRect(0, 0, pad.width, pad.height);
}

function run(promise) {
  promise.catch((e) => { document.getElementById('error').textContent = String(e && e.message || e); });
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
  drawing = false;
  run(classify(pen.getImageData(0, 0, pad.width, pad.height)));
});
document.getElementById('clear').addEventListener('click', clear);

async function dropped(file) {
  if (!file || !file.type.startsWith('image/')) throw new Error(`${file ? file.name : 'that'} is not an image file: drop a PNG, JPEG or BMP`);
  const image = await decode(file);
  clear();
  const bitmap = await createImageBitmap(file);
  const fit = Math.min(pad.width / bitmap.width, pad.height / bitmap.height);
  pen.drawImage(bitmap, 0, 0, bitmap.width * fit, bitmap.height * fit);
  await classify(image);
}
const drop = document.getElementById('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); run(dropped(e.dataTransfer.files[0])); });
document.getElementById('file').addEventListener('change', (e) => run(dropped(e.target.files[0])));

clear();
status.textContent = `ready: onnxruntime-web ${ort.env.versions.web || ort.env.versions.common}, wasm, ${ort.env.wasm.numThreads} thread(s)`;
document.body.dataset.ready = 'true';
