// Audio checks on WAV files in node (the page-side checks use WebAudio analysers instead, see mix.test.mjs):
// tone WAVs to play, WAVs read back as mono Float32 samples, the strongest frequency (FFT) and the level of one
// frequency (Goertzel). Enough for "the phone hears 440 Hz" and "the phone does not hear itself" (mix-minus).
//
// Chromium's fake microphone (--use-fake-device-for-media-stream, no --use-file-for-fake-audio-capture) is
// media/audio's beeping source. Measured here (Chromium on Debian 12, getUserMedia with echoCancellation,
// noiseSuppression and autoGainControl off, recorded in the page): a 400 Hz square wave between 0 and full scale
// (unipolar, peak 1.0), ~20-25 ms long, every 500 ms, silence (exact zeros) in between. Its energy is at 400 Hz
// plus odd harmonics (1200, 2000 Hz ...), and 440 Hz is only 40 Hz away, so:
//  - "the beep is there": chromiumBeeps() (bursts at 1200 Hz, the 3rd harmonic, 500 ms apart), which a steady
//    440 Hz tone in the same signal does not disturb;
//  - "440 Hz is not there": toneLevel(s, rate, 440, {blockMs: 500}); the beep itself leaks ~0.0003 into it
//    (0.014 with 100 ms blocks), a steady tone gives its amplitude.
import fs from 'node:fs';

export const CHROMIUM_BEEP = { freq: 400, durationMs: 20, intervalMs: 500 };

/**
 * Writes a 16-bit PCM WAV with a sine tone.
 * @param {string} file
 * @param {object} o
 * @param {number} [o.freq] Hz (default 440)
 * @param {number} [o.seconds] default 60 (baresip's aufile sends silence once the file ends, so make it long)
 * @param {number} [o.rate] 8000 or 48000 (any rate works; baresip's ausrc_srate is set from it)
 * @param {number} [o.amplitude] peak, 0..1 (default 0.5, -6 dBFS)
 * @param {number} [o.channels] default 1
 * @param {(t: number) => boolean} [o.on] whether second t carries the tone (default: always); off = silence
 */
export function writeToneWav(file, { freq = 440, seconds = 60, rate = 8000, amplitude = 0.5, channels = 1, on = null } = {}) {
  const n = Math.round(rate * seconds);
  const bytes = n * channels * 2;
  const buf = Buffer.alloc(44 + bytes);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + bytes, 4);
  buf.write('WAVE', 8);
  buf.write('fmt ', 12);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(channels, 22);
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * channels * 2, 28);
  buf.writeUInt16LE(channels * 2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(bytes, 40);
  const w = (2 * Math.PI * freq) / rate;
  for (let i = 0; i < n; i++) {
    const v = on && !on(i / rate) ? 0 : Math.round(amplitude * 32767 * Math.sin(w * i));
    for (let c = 0; c < channels; c++) buf.writeInt16LE(v, 44 + (i * channels + c) * 2);
  }
  fs.writeFileSync(file, buf);
  return file;
}

// The fmt and data chunks of a RIFF/WAVE buffer. A data size of 0 or past the end (a file still being written:
// libsndfile fixes the header only when it closes the file) means "the rest of the file".
function parseWav(buf, file) {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error(`${file}: not a RIFF/WAVE file`);
  }
  let fmt = null;
  let off = 12;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    let size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      let format = buf.readUInt16LE(body);
      if (format === 0xfffe && size >= 26) format = buf.readUInt16LE(body + 24); // WAVE_FORMAT_EXTENSIBLE
      fmt = { format, channels: buf.readUInt16LE(body + 2), rate: buf.readUInt32LE(body + 4), bits: buf.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (!fmt) throw new Error(`${file}: data before fmt`);
      if (size === 0 || size === 0xffffffff || body + size > buf.length) size = buf.length - body;
      return { ...fmt, dataOffset: body, dataBytes: size };
    }
    off = body + size + (size & 1);
  }
  if (fmt) return { ...fmt, dataOffset: buf.length, dataBytes: 0 };
  throw new Error(`${file}: no fmt chunk`);
}

/** The WAV's format without reading its samples: {format (1 PCM, 3 float), channels, rate, bits, dataBytes}. */
export function readWavHeader(file) {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(4096);
    const got = fs.readSync(fd, head, 0, head.length, 0);
    const h = parseWav(head.subarray(0, got), file);
    const total = fs.fstatSync(fd).size;
    if (h.dataBytes === got - h.dataOffset) h.dataBytes = total - h.dataOffset; // the rest of the file
    return h;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Reads a WAV (PCM 8/16/24/32-bit or float 32) as mono floats in [-1, 1] (channels averaged).
 * Works on a file that is still being written (see parseWav).
 * @returns {{samples: Float32Array, rate: number, channels: number, seconds: number}}
 */
export function readWav(file) {
  const buf = fs.readFileSync(file);
  const h = parseWav(buf, file);
  const bps = h.bits / 8;
  const frames = Math.floor(h.dataBytes / (bps * h.channels));
  const samples = new Float32Array(frames);
  const read = (o) => {
    if (h.format === 3 && h.bits === 32) return buf.readFloatLE(o);
    if (h.format !== 1) throw new Error(`${file}: WAV format ${h.format} is not PCM or float`);
    switch (h.bits) {
      case 8: return (buf[o] - 128) / 128;
      case 16: return buf.readInt16LE(o) / 32768;
      case 24: return buf.readIntLE(o, 3) / 8388608;
      case 32: return buf.readInt32LE(o) / 2147483648;
      default: throw new Error(`${file}: ${h.bits}-bit PCM`);
    }
  };
  for (let i = 0; i < frames; i++) {
    let s = 0;
    for (let c = 0; c < h.channels; c++) s += read(h.dataOffset + (i * h.channels + c) * bps);
    samples[i] = s / h.channels;
  }
  return { samples, rate: h.rate, channels: h.channels, seconds: frames / h.rate };
}

/** samples between `from` and `to` seconds (to: default the end). */
export function slice(samples, rate, from = 0, to = Infinity) {
  return samples.subarray(Math.max(0, Math.floor(from * rate)), Math.min(samples.length, Math.floor(to * rate)));
}

export function rms(samples) {
  let s = 0;
  for (let i = 0; i < samples.length; i++) s += samples[i] * samples[i];
  return samples.length ? Math.sqrt(s / samples.length) : 0;
}

export const dbfs = (amplitude) => 20 * Math.log10(Math.max(amplitude, 1e-10));

// In-place radix-2 FFT of (re, im), length a power of two.
function fft(re, im) {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k;
        const b = a + len / 2;
        const tr = re[b] * cr - im[b] * ci;
        const ti = re[b] * ci + im[b] * cr;
        re[b] = re[a] - tr;
        im[b] = im[a] - ti;
        re[a] += tr;
        im[a] += ti;
        const nr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = nr;
      }
    }
  }
}

/**
 * The average power spectrum of Hann-windowed frames (Welch): {power: Float64Array(size/2), binHz}.
 * size: FFT length, a power of two (default: 8192 at 48 kHz, 2048 at 8 kHz, i.e. ~4-6 Hz bins).
 */
export function spectrum(samples, rate, { size = null } = {}) {
  let n = size ?? (rate >= 32000 ? 8192 : 2048);
  while (n > samples.length && n > 64) n >>= 1;
  const win = new Float64Array(n);
  for (let i = 0; i < n; i++) win[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
  const power = new Float64Array(n / 2);
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  let frames = 0;
  for (let start = 0; start + n <= samples.length; start += n / 2) {
    for (let i = 0; i < n; i++) {
      re[i] = samples[start + i] * win[i];
      im[i] = 0;
    }
    fft(re, im);
    for (let k = 0; k < n / 2; k++) power[k] += re[k] * re[k] + im[k] * im[k];
    frames++;
  }
  if (frames) for (let k = 0; k < n / 2; k++) power[k] /= frames;
  return { power, binHz: rate / n, frames };
}

/**
 * The strongest frequency (Hz) in samples, by FFT with parabolic interpolation between bins.
 * @param {object} [o]
 * @param {number} [o.from] [o.to]   the time window, seconds (default: all)
 * @param {number} [o.minHz] [o.maxHz] the band searched (default 50 Hz .. Nyquist)
 * @returns {number} Hz (NaN for silence or too few samples)
 */
export function dominantFrequency(samples, rate, { from = 0, to = Infinity, minHz = 50, maxHz = rate / 2, size = null } = {}) {
  const { power, binHz, frames } = spectrum(slice(samples, rate, from, to), rate, { size });
  if (!frames) return NaN;
  const lo = Math.max(1, Math.ceil(minHz / binHz));
  const hi = Math.min(power.length - 2, Math.floor(maxHz / binHz));
  let best = -1;
  for (let k = lo; k <= hi; k++) if (best < 0 || power[k] > power[best]) best = k;
  if (best < 0 || power[best] <= 1e-12) return NaN;
  const [a, b, c] = [power[best - 1], power[best], power[best + 1]].map((p) => Math.log(p + 1e-30));
  const d = a - 2 * b + c;
  const shift = d < 0 ? (0.5 * (a - c)) / d : 0;
  return (best + shift) * binHz;
}

// Goertzel: the amplitude (0..1 peak, a full-scale sine = 1) of `freq` in one Hann-windowed block.
function goertzelAmplitude(block, rate, freq) {
  const n = block.length;
  const w = (2 * Math.PI * freq) / rate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  let wsum = 0;
  for (let i = 0; i < n; i++) {
    const h = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
    wsum += h;
    const s0 = block[i] * h + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const re = s1 - s2 * Math.cos(w);
  const im = s2 * Math.sin(w);
  return (2 * Math.sqrt(re * re + im * im)) / wsum;
}

/**
 * The level of one frequency: Goertzel on blocks of `blockMs` (default 100 ms: ~20 Hz wide with the Hann window,
 * so 400 and 440 Hz are told apart), the best of freq ± tolHz, then the blocks' RMS or max.
 * @param {object} [o]
 * @param {number} [o.from] [o.to] seconds
 * @param {number} [o.tolHz] default 4 (clock drift between phones and resampling)
 * @param {'mean'|'max'} [o.stat] 'mean' (RMS over blocks, for steady tones) or 'max' (the loudest block, for
 *   short beeps such as Chromium's 20 ms one: use blockMs 20 then)
 * @returns {number} peak amplitude, 0..1 (a -6 dBFS sine gives ~0.5; see dbfs())
 */
export function toneLevel(samples, rate, freq, { from = 0, to = Infinity, blockMs = 100, tolHz = 4, stat = 'mean' } = {}) {
  const s = slice(samples, rate, from, to);
  const n = Math.max(16, Math.round((rate * blockMs) / 1000));
  const steps = tolHz > 0 ? [-tolHz, -tolHz / 2, 0, tolHz / 2, tolHz] : [0];
  let sum = 0;
  let max = 0;
  let blocks = 0;
  for (let start = 0; start + n <= s.length; start += n) {
    const block = s.subarray(start, start + n);
    let a = 0;
    for (const d of steps) a = Math.max(a, goertzelAmplitude(block, rate, freq + d));
    sum += a * a;
    max = Math.max(max, a);
    blocks++;
  }
  if (!blocks) return 0;
  return stat === 'max' ? max : Math.sqrt(sum / blocks);
}

/**
 * A summary for logs and assertions: {seconds, rms, dominantHz, levels: {freq: amplitude}}.
 * `freqs`: the frequencies to measure, e.g. [440, CHROMIUM_BEEP.freq].
 */
export function describeAudio(samples, rate, { from = 0, to = Infinity, freqs = [] } = {}) {
  const s = slice(samples, rate, from, to);
  const levels = {};
  for (const f of freqs) levels[f] = Number(toneLevel(s, rate, f).toFixed(4));
  return { seconds: Number((s.length / rate).toFixed(2)), rms: Number(rms(s).toFixed(4)),
           dominantHz: Number(dominantFrequency(s, rate).toFixed(1)), levels };
}

/**
 * Onsets (seconds) of short tone bursts: the Goertzel level of `freq` on `blockMs` blocks every `hopMs`, above
 * `threshold` (default 0.3 x the loudest block, at least 0.002) after being below it.
 */
export function burstOnsets(samples, rate, { freq = 1200, blockMs = 10, hopMs = 5, threshold = null, from = 0, to = Infinity } = {}) {
  const s = slice(samples, rate, from, to);
  const n = Math.round((rate * blockMs) / 1000);
  const hop = Math.max(1, Math.round((rate * hopMs) / 1000));
  const env = [];
  for (let start = 0; start + n <= s.length; start += hop) env.push(goertzelAmplitude(s.subarray(start, start + n), rate, freq));
  const top = env.reduce((m, v) => Math.max(m, v), 0);
  const th = threshold ?? Math.max(0.002, 0.3 * top);
  const onsets = [];
  let above = false;
  for (let i = 0; i < env.length; i++) {
    if (!above && env[i] > th) onsets.push(from + (i * hop) / rate);
    above = env[i] > th * 0.5 ? (above || env[i] > th) : false;
  }
  return onsets;
}

/**
 * How many of Chromium's fake-microphone beeps are in samples: bursts of its 3rd harmonic (1200 Hz) whose gap to
 * the previous burst is 500 ms (± tolMs). 0 for a steady tone, silence or noise. Passes through PCMU and Opus.
 */
export function chromiumBeeps(samples, rate, { tolMs = 40, ...o } = {}) {
  const on = burstOnsets(samples, rate, { freq: 3 * CHROMIUM_BEEP.freq, ...o });
  let n = 0;
  for (let i = 1; i < on.length; i++) {
    const gap = (on[i] - on[i - 1]) * 1000;
    if (Math.abs(gap - CHROMIUM_BEEP.intervalMs) <= tolMs) n++;
  }
  return n;
}
