// What a test measures about the server from outside: its /metrics (summed over labels) and its CPU time from
// /proc (Linux), per process and per thread.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/** Every sample of /metrics, summed per metric name over its labels: {name: value}. */
export async function scrapeMetrics(server) {
  const response = await fetch(`${server.url}/metrics`);
  if (response.status !== 200) throw new Error(`GET /metrics -> ${response.status}`);
  const sums = {};
  for (const line of (await response.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const name = line.match(/^[A-Za-z_:][A-Za-z0-9_:]*/)?.[0];
    if (!name) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sums[name] = (sums[name] ?? 0) + value;
  }
  return sums;
}

/** One metric from /metrics, summed over its labels (0 when absent). */
export async function metric(server, name) {
  return (await scrapeMetrics(server))[name] ?? 0;
}

let clockTicks;
/** Clock ticks per second of /proc's times (`getconf CLK_TCK`, 100 on every Linux we run on). */
export function clkTck() {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      clockTicks = NaN;
    }
    if (!Number.isFinite(clockTicks) || clockTicks <= 0) clockTicks = 100;
  }
  return clockTicks;
}

// utime and stime (fields 14 and 15 of a stat line) in seconds, their sum, and the name between the parentheses.
function parseStat(text) {
  const close = text.lastIndexOf(')');
  const name = text.slice(text.indexOf('(') + 1, close);
  const fields = text.slice(close + 2).split(' '); // fields[0] is field 3 (state)
  const user = Number(fields[11]) / clkTck();
  const system = Number(fields[12]) / clkTck();
  return { name, user, system, seconds: user + system };
}

/** CPU seconds (user + system, all threads) the process `pid` has used so far. */
export function processCpuSeconds(pid) {
  return processCpuTimes(pid).seconds;
}

/** The same split: {user, system, seconds}. */
export function processCpuTimes(pid) {
  const { user, system, seconds } = parseStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  return { user, system, seconds };
}

/** CPU seconds per thread of `pid`: {tid: {name, seconds}}. Threads that end while reading are skipped. */
export function threadCpuSeconds(pid) {
  const out = {};
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      out[tid] = parseStat(fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
    } catch {
      // gone
    }
  }
  return out;
}

/**
 * Runs a timing scenario with real browsers (fn(attempt)) and, if it fails, once more from scratch, printing
 * the first failure. The bitrate scenarios share a 2-core machine with three Chromiums; a starved browser
 * now and then misses a deadline (about one run in eight) that the next attempt meets. Two failures fail.
 */
export async function twice(what, fn) {
  try {
    return await fn(1);
  } catch (error) {
    console.log(`${what}: attempt 1 failed, running it once more: ${error.message}`);
    return fn(2);
  }
}
