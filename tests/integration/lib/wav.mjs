// Fake microphones for chromium (--use-file-for-fake-audio-capture=FILE.wav): 48 kHz 16-bit mono PCM.
import fs from 'node:fs';

const RATE = 48_000;

// A mono 16-bit PCM WAV of `seconds`; `loud(t)` says whether second t carries the tone.
export function writeWav(file, seconds, loud) {
  const n = RATE * seconds;
  const buf = Buffer.alloc(44 + n * 2);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + n * 2, 4);
  buf.write('WAVE', 8);
  buf.write('fmt ', 12);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(RATE, 24);
  buf.writeUInt32LE(RATE * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(n * 2, 40);
  let seed = 12345;
  const noise = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return (seed % 7) - 3; }; // ±3 LSB
  for (let i = 0; i < n; i += 1) {
    const t = i / RATE;
    const v = loud(t) ? Math.round(0.5 * 32767 * Math.sin(2 * Math.PI * 440 * t)) : noise(); // -6 dBFS
    buf.writeInt16LE(v, 44 + i * 2);
  }
  fs.writeFileSync(file, buf);
}
