// The runtime's image preprocessing (runtime/preprocess.py) in JavaScript, from the manifest's "preprocess": colour
// conversion as Pillow does it (L = (19595 R + 38470 G + 7471 B + 2^15) >> 16), Pillow's bilinear resample in its 8-bit
// fixed point (Resample.c: 22 fraction bits, its two passes in Pillow 13's order) or OpenCV's (runtime/opencv_resize.py), BGR order, dark-on-light inversion,
// x * scale + offset in float32, padding on the right, and a centre crop. Exact to the Python runtime on the same decoded
// opaque pixels.

const PRECISION_BITS = 22;
const ONE = 2 ** PRECISION_BITS;

// Python's round() halves to even
function roundHalfEven(v) {
  const f = Math.floor(v), d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
}

// the (height, width) an image is resized to, before any padding or cropping (runtime/preprocess.py target_size)
function targetSize(height, width, r) {
  if (r.mode === 'stretch') return [r.height, r.width];
  if (r.mode === 'short_crop') {
    const percent = r.side / Math.min(height, width);
    return [roundHalfEven(height * percent), roundHalfEven(width * percent)];
  }
  if (r.mode === 'pad_right') {
    const wide = Math.ceil(r.height * width / height);
    return [r.height, Math.max(1, r.grow ? wide : Math.min(wide, r.width))];
  }
  const short = Math.min(height, width), long = Math.max(height, width);
  const ratio = r.limit === 'min' ? (short < r.side ? r.side / short : 1.0) : (long > r.side ? r.side / long : 1.0);
  return [height, width].map((side) => Math.max(r.multiple, roundHalfEven(Math.trunc(side * ratio) / r.multiple) * r.multiple));
}

// Pillow's precompute_coeffs + normalize_coeffs_8bpc for the bilinear (triangle) filter
function coefficients(inSize, outSize) {
  const scale = inSize / outSize, filterScale = Math.max(scale, 1.0), support = filterScale, ss = 1.0 / filterScale;
  const taps = [];
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    const w = [];
    let sum = 0;
    for (let x = 0; x < xmax; x++) {
      const t = Math.abs((x + xmin - center + 0.5) * ss);
      const v = t < 1.0 ? 1.0 - t : 0.0;
      w.push(v);
      sum += v;
    }
    taps.push({ xmin, k: w.map((v) => { const n = sum !== 0 ? v / sum : v; return Math.trunc(n < 0 ? -0.5 + n * ONE : 0.5 + n * ONE); }) });
  }
  return taps;
}

function clip8(ss) { return Math.min(255, Math.max(0, Math.floor(ss / ONE))); }

// planes: Uint8 arrays of one channel each, height x width; the bilinear resize of each to outH x outW. Each pass rounds
// to 8 bits, so the order matters: Pillow 13 (ImagingResampleInner) runs the vertical pass first when the height shrinks
// by more than twice as many pixels as the width does, the horizontal one first otherwise.
function resizePlanes(planes, height, width, outH, outW) {
  const verticalFirst = height - outH > 0 && height - outH > (width - outW) * 2;
  return planes.map((plane) => {
    let src = plane, h = height, w = width;
    const horizontal = () => {
      const taps = coefficients(w, outW), out = new Uint8Array(h * outW);
      for (let y = 0; y < h; y++) {
        for (let xx = 0; xx < outW; xx++) {
          const { xmin, k } = taps[xx];
          let ss = ONE / 2;
          for (let x = 0; x < k.length; x++) ss += src[y * w + xmin + x] * k[x];
          out[y * outW + xx] = clip8(ss);
        }
      }
      src = out; w = outW;
    };
    const vertical = () => {
      const taps = coefficients(h, outH), out = new Uint8Array(outH * w);
      for (let yy = 0; yy < outH; yy++) {
        const { xmin, k } = taps[yy];
        for (let x = 0; x < w; x++) {
          let ss = ONE / 2;
          for (let y = 0; y < k.length; y++) ss += src[(xmin + y) * w + x] * k[y];
          out[yy * w + x] = clip8(ss);
        }
      }
      src = out; h = outH;
    };
    for (const pass of verticalFirst ? [vertical, horizontal] : [horizontal, vertical]) {
      if (pass === horizontal ? outW !== w : outH !== h) pass();
    }
    return src;
  });
}

// OpenCV's INTER_LINEAR taps for each output index (runtime/opencv_resize.py _taps): the position in float32, two source
// indices clamped to the edge (along a row, clampFraction, the edge pixel's weight one), 11-bit weights rounded half to even
function opencvTaps(src, dst, clampFraction) {
  const scale = 1.0 / (dst / src), taps = [];
  const clamp = (v) => Math.min(Math.max(v, 0), src - 1);
  for (let i = 0; i < dst; i++) {
    const position = Math.fround((i + 0.5) * scale - 0.5);
    const first = Math.floor(position);
    let fraction = Math.fround(position - first);
    if (clampFraction && (first < 0 || first >= src - 1)) fraction = 0;
    taps.push({ first: clamp(first), second: clamp(first + 1),
      w0: roundHalfEven(Math.fround(1 - fraction) * 2048), w1: roundHalfEven(fraction * 2048) });
  }
  return taps;
}

// cv2.resize(plane, (outW, outH)) as runtime/opencv_resize.py repeats it: an exact halving is the 2 x 2 mean (INTER_AREA);
// otherwise the horizontal pass in integers, the vertical one rounded as OpenCV's SIMD kernel rounds it
function resizePlanesOpenCV(planes, height, width, outH, outW) {
  if (outH === height && outW === width) return planes;
  if (height === 2 * outH && width === 2 * outW) {
    return planes.map((p) => {
      const out = new Uint8Array(outH * outW);
      for (let y = 0; y < outH; y++) {
        for (let x = 0; x < outW; x++) {
          const i = 2 * y * width + 2 * x;
          out[y * outW + x] = (p[i] + p[i + 1] + p[i + width] + p[i + width + 1] + 2) >> 2;
        }
      }
      return out;
    });
  }
  const xs = opencvTaps(width, outW, true), ys = opencvTaps(height, outH, false);
  return planes.map((p) => {
    const rows = new Int32Array(height * outW);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < outW; x++) {
        const t = xs[x];
        rows[y * outW + x] = p[y * width + t.first] * t.w0 + p[y * width + t.second] * t.w1;
      }
    }
    const out = new Uint8Array(outH * outW);
    for (let y = 0; y < outH; y++) {
      const t = ys[y];
      for (let x = 0; x < outW; x++) {
        const top = ((rows[t.first * outW + x] >> 4) * t.w0) >> 16, bottom = ((rows[t.second * outW + x] >> 4) * t.w1) >> 16;
        out[y * outW + x] = Math.min(255, Math.max(0, (top + bottom + 2) >> 2));
      }
    }
    return out;
  });
}

// RGBA pixels (an ImageData's) composited onto white as Pillow's alpha_composite does (how the runtime flattens transparent
// images; the canvas keeps alpha premultiplied, so a semi-transparent pixel may come back a level off), then L or RGB planes
function planesOf(rgba, count, color) {
  const r = new Uint8Array(count), g = new Uint8Array(count), b = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const a = rgba[4 * i + 3];
    const over = (c) => { const t = (c * a + 255 * (255 - a)) * 128 + (0x80 << 7); return (((t >> 8) + t) >> 8) >> 7; };  // Pillow's alpha_composite
    r[i] = over(rgba[4 * i]); g[i] = over(rgba[4 * i + 1]); b[i] = over(rgba[4 * i + 2]);
  }
  if (color !== 'L') return color === 'BGR' ? [b, g, r] : [r, g, b];
  const l = new Uint8Array(count);
  for (let i = 0; i < count; i++) l[i] = (r[i] * 19595 + g[i] * 38470 + b[i] * 7471 + 0x8000) >>> 16;
  return [l];
}

function perChannel(value, c) { return Array.isArray(value) ? value[c] : value; }

// imageData: {data: RGBA bytes, width, height}; pre: the manifest's preprocess. Returns {data: Float32Array, dims} (1 x C x H x W)
export function preprocess(imageData, pre) {
  const spec = pre.image;
  const [resizedH, resizedW] = targetSize(imageData.height, imageData.width, spec.resize);
  const resize = spec.resize.interpolation === 'opencv' ? resizePlanesOpenCV : resizePlanes;  // absent before manifest schema 4: Pillow
  let planes = resize(planesOf(imageData.data, imageData.width * imageData.height, spec.color), imageData.height, imageData.width, resizedH, resizedW);
  let outH = resizedH, outW = resizedW;
  if (spec.resize.mode === 'short_crop') {  // the centre, as PaddleClas's CropImage cuts it
    const top = Math.floor((resizedH - spec.resize.height) / 2), left = Math.floor((resizedW - spec.resize.width) / 2);
    outH = spec.resize.height; outW = spec.resize.width;
    planes = planes.map((p) => {
      const out = new Uint8Array(outH * outW);
      for (let y = 0; y < outH; y++) out.set(p.subarray((top + y) * resizedW + left, (top + y) * resizedW + left + outW), y * outW);
      return out;
    });
  }
  if (spec.invert_light_background) {
    let sum = 0, n = 0;
    for (const p of planes) {
      for (let x = 0; x < outW; x++) { sum += p[x] + p[(outH - 1) * outW + x]; n += 2; }
      for (let y = 0; y < outH; y++) { sum += p[y * outW] + p[y * outW + outW - 1]; n += 2; }
    }
    if (sum / n > 127.5) planes = planes.map((p) => p.map((v) => 255 - v));
  }
  const width = spec.resize.mode === 'pad_right' ? Math.max(spec.resize.width, outW) : outW;
  const data = new Float32Array(planes.length * outH * width);
  planes.forEach((p, c) => {
    const scale = Math.fround(perChannel(pre.scale, c)), offset = Math.fround(perChannel(pre.offset, c));
    for (let y = 0; y < outH; y++) {
      for (let x = 0; x < outW; x++) data[(c * outH + y) * width + x] = Math.fround(Math.fround(p[y * outW + x] * scale) + offset);
    }
  });
  return { data, dims: [1, planes.length, outH, width] };
}

// an image file (a Blob) decoded by the browser, its pixels as they are in the file (no colour management, no EXIF
// rotation: the runtime applies neither); exact for opaque 8-bit images, a semi-transparent pixel may come back a level off
export async function decode(blob) {
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'none' });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d');
  context.drawImage(bitmap, 0, 0);
  return context.getImageData(0, 0, bitmap.width, bitmap.height);
}
