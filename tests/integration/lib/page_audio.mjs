// Listening to a received track in a page: a WebAudio analyser (FFT 8192, 5.9 Hz bins at 48 kHz) on it, fed
// through a muted element (chromium feeds WebAudio from a remote track only while something consumes it).
// installAnalyser(page) defines window.analyseTrack(track) -> analyser (its context is analyser.context) and
// window.peakOf(analyser) -> {peakHz, peakDb, rms} in the page, for the tests' page.evaluate functions.
export function installAnalyser(page) {
  return page.evaluate(() => {
    window.analyseTrack = async (track) => {
      const stream = new MediaStream([track]);
      const el = new Audio();
      el.srcObject = stream;
      el.muted = true;
      await el.play().catch(() => {});
      const ctx = new AudioContext();
      await ctx.resume();
      const an = ctx.createAnalyser();
      an.fftSize = 8192;
      an.smoothingTimeConstant = 0;
      ctx.createMediaStreamSource(stream).connect(an);
      an.element = el;
      return an;
    };
    window.rmsOf = (an) => {
      const t = new Float32Array(an.fftSize);
      an.getFloatTimeDomainData(t);
      let sum = 0;
      for (const v of t) sum += v * v;
      return Math.sqrt(sum / t.length);
    };
    window.peakOf = (an) => {
      const f = new Float32Array(an.frequencyBinCount);
      an.getFloatFrequencyData(f);
      let best = 1;
      for (let i = 2; i < f.length; i += 1) if (f[i] > f[best]) best = i;
      return { peakHz: (best * an.context.sampleRate) / an.fftSize, peakDb: f[best], rms: window.rmsOf(an) };
    };
  });
}
