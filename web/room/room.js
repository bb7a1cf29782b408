// The room demo: everyone who joins publishes camera and microphone and sees everyone else, by name. Uses nothing
// but the room SDK (/web/sdk/atrium.js). `window.demo` is there for tests and the curious.
import { connect } from '/web/sdk/atrium.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
$('room').value = params.get('room') ?? 'demo';
$('name').value = params.get('name') ?? localStorage.getItem('atrium-name') ?? '';

let room = null;
let local = null; // MediaStream from the camera and microphone
let screen = null; // MediaStreamTrack from getDisplayMedia
const tiles = new Map(); // `${peer}/${group}` -> {el, video, stream, label}

const status = (text) => { $('status').textContent = text; };
const displayName = (peer) => {
  if (room && peer === room.peerId) return `${room.meta?.name ?? peer} (you)`;
  return room?.peers.get(peer)?.meta?.name ?? peer;
};
// A peer id from a display name: the protocol's name characters, plus a suffix so two tabs never collide.
const peerIdFor = (name) => `${name.replace(/[^A-Za-z0-9_.~-]+/g, '-').slice(0, 40) || 'guest'}-${Math.random().toString(16).slice(2, 6)}`;

function tile(peer, group) {
  const k = `${peer}/${group}`;
  let t = tiles.get(k);
  if (t) return t;
  const el = document.createElement('div');
  el.className = 'tile';
  el.dataset.peer = peer;
  el.dataset.group = group;
  const video = document.createElement('video');
  video.autoplay = true;
  video.playsInline = true;
  video.muted = true; // sound plays through the tile's <audio>: a muted video may always autoplay
  const label = document.createElement('div');
  label.className = 'name';
  el.append(video, label);
  t = { el, video, label, stream: new MediaStream(), audio: null, peer, group, muted: { audio: false, video: false } };
  video.srcObject = t.stream;
  tiles.set(k, t);
  // Own tile first, then the others in order of arrival.
  if (room && peer === room.peerId && group === 'camera') $('tiles').prepend(el);
  else $('tiles').append(el);
  relabel(t);
  highlightSpeaker();
  return t;
}

function relabel(t) {
  const name = displayName(t.peer) + (t.group === 'camera' ? '' : ` — ${t.group}`);
  const flags = [t.muted.audio && 'mic off', t.muted.video && 'camera off'].filter(Boolean).join(', ');
  t.label.innerHTML = '';
  t.label.append(name);
  if (flags) {
    const m = document.createElement('span');
    m.className = 'muted';
    m.textContent = ` (${flags})`;
    t.label.append(m);
  }
}

// The dominant speaker's camera tile gets the `speaking` outline (room.activeSpeakers[0], from the server).
function highlightSpeaker() {
  const speaker = room?.activeSpeakers[0]?.peer;
  tiles.forEach((t) => t.el.classList.toggle('speaking', t.peer === speaker && t.group === 'camera'));
}

function removeTile(peer, group) {
  const k = `${peer}/${group}`;
  const t = tiles.get(k);
  if (!t) return;
  t.el.remove();
  tiles.delete(k);
}

// A remote track goes into its tile: video tracks other than the peer's picture get a tile of their own (e.g.
// 'screen'). The picture is 'camera' from a browser, 'video' from RTMP (OBS, ffmpeg) and WHIP publishers.
const groupOf = (track, kind) => (kind === 'video' && track !== 'camera' && track !== 'video' ? track : 'camera');

async function show(peer, track, kind) {
  const group = groupOf(track, kind);
  const t = tile(peer, group);
  try {
    const media = await room.subscribe(peer, track);
    if (kind === 'audio') {
      if (!t.audio) {
        t.audio = document.createElement('audio');
        t.audio.autoplay = true;
        t.el.append(t.audio);
      }
      t.audio.srcObject = new MediaStream([media]);
    } else {
      t.stream.getVideoTracks().forEach((v) => t.stream.removeTrack(v));
      t.stream.addTrack(media);
      t.video.srcObject = t.stream;
    }
  } catch (error) {
    addMessage('atrium', `could not subscribe to ${peer}/${track}: ${error.message}`);
  }
}

function hide(peer, track, kind) {
  const group = groupOf(track, kind);
  if (group !== 'camera') return removeTile(peer, group);
  const t = tiles.get(`${peer}/camera`);
  if (!t) return;
  if (kind === 'audio' && t.audio) { t.audio.srcObject = null; t.audio.remove(); t.audio = null; }
  if (kind === 'video') t.stream.getVideoTracks().forEach((v) => t.stream.removeTrack(v));
}

function trackMeta(peer, track, meta) {
  const t = tiles.get(`${peer}/camera`);
  if (!t || (track !== 'audio' && track !== 'camera')) return;
  t.muted[track === 'audio' ? 'audio' : 'video'] = !!meta?.muted;
  relabel(t);
}

function addMessage(from, text) {
  const line = document.createElement('div');
  const who = document.createElement('span');
  who.className = 'from';
  who.textContent = `${from}: `;
  line.append(who, String(text));
  $('messages').append(line);
  $('messages').scrollTop = $('messages').scrollHeight;
}

export async function join({ roomName, name }) {
  status('joining…');
  localStorage.setItem('atrium-name', name);
  local = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 480 } });
  room = await connect(location.origin, { room: roomName, peer: peerIdFor(name), meta: { name } });
  window.demo.room = room;
  const kinds = new Map(); // `${peer}/${track}` -> kind, for hide() after the SDK forgot the track

  room.on('peer_joined', ({ peer }) => tile(peer, 'camera'));
  room.on('peer_meta', ({ peer }) => tiles.forEach((t) => t.peer === peer && relabel(t)));
  room.on('peer_left', ({ peer }) => [...tiles.values()].filter((t) => t.peer === peer).forEach((t) => removeTile(peer, t.group)));
  room.on('track_published', ({ peer, track, kind, meta }) => {
    kinds.set(`${peer}/${track}`, kind);
    show(peer, track, kind);
    trackMeta(peer, track, meta);
  });
  room.on('track_unpublished', ({ peer, track }) => hide(peer, track, kinds.get(`${peer}/${track}`)));
  room.on('track_meta', ({ peer, track, meta }) => trackMeta(peer, track, meta));
  room.on('active_speakers', highlightSpeaker);
  room.on('message', ({ from, data }) => addMessage(displayName(from), data?.text ?? JSON.stringify(data)));
  room.on('error', ({ code, message }) => addMessage('atrium', `${code}: ${message}`));
  room.on('disconnected', () => status('connection lost, reconnecting…'));
  room.on('reconnected', () => status(`in room ${room.roomName}`));
  room.on('closed', ({ reason }) => { status(`left: ${reason}`); reset(); });
  // Who was here before we joined: in the room's state already (announced before these handlers existed).
  for (const { peer } of room.peers.values()) tile(peer, 'camera');
  for (const { peer, track, kind, meta } of room.tracks.values()) {
    kinds.set(`${peer}/${track}`, kind);
    show(peer, track, kind);
    trackMeta(peer, track, meta);
  }

  const own = tile(room.peerId, 'camera');
  own.stream.addTrack(local.getVideoTracks()[0]);
  await room.publish(local.getAudioTracks()[0], { name: 'audio', meta: { muted: false } });
  await room.publish(local.getVideoTracks()[0], { name: 'camera', meta: { muted: false } });

  $('join').querySelectorAll('input, button').forEach((el) => { el.disabled = true; });
  $('controls').classList.remove('hidden');
  $('chat').classList.remove('hidden');
  status(`in room ${room.roomName} as ${name}`);
  history.replaceState(null, '', `?room=${encodeURIComponent(roomName)}`);
  return room;
}

function reset() {
  tiles.forEach((t) => t.el.remove());
  tiles.clear();
  local?.getTracks().forEach((t) => t.stop());
  screen?.stop();
  local = null;
  screen = null;
  $('join').querySelectorAll('input, button').forEach((el) => { el.disabled = false; });
  $('controls').classList.add('hidden');
  $('chat').classList.add('hidden');
  for (const id of ['mic', 'camera', 'screen']) $(id).setAttribute('aria-pressed', 'false');
}

async function toggle(button, name, track, onText, offText) {
  const off = button.getAttribute('aria-pressed') !== 'true';
  track.enabled = !off; // a disabled track sends silence / black frames: the others keep their receivers
  button.setAttribute('aria-pressed', String(off));
  button.textContent = off ? offText : onText;
  const own = tiles.get(`${room.peerId}/camera`);
  own.muted[name === 'audio' ? 'audio' : 'video'] = off;
  relabel(own);
  await room.updateTrackMeta(name, { muted: off });
}

$('join').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    await join({ roomName: $('room').value.trim(), name: $('name').value.trim() });
  } catch (error) {
    status(`could not join: ${error.message}`);
    local?.getTracks().forEach((t) => t.stop());
  }
});
$('mic').onclick = () => toggle($('mic'), 'audio', local.getAudioTracks()[0], 'Mute mic', 'Unmute mic');
$('camera').onclick = () => toggle($('camera'), 'camera', local.getVideoTracks()[0], 'Stop camera', 'Start camera');
$('screen').onclick = async () => {
  const button = $('screen');
  if (screen) return stopScreen(); // stopping a track from our side fires no 'ended'
  try {
    const display = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    screen = display.getVideoTracks()[0];
    screen.contentHint = 'detail';
    const mine = tile(room.peerId, 'screen');
    mine.stream.addTrack(screen);
    await room.publish(screen, { name: 'screen' });
    button.setAttribute('aria-pressed', 'true');
    button.textContent = 'Stop sharing';
    const shared = screen;
    shared.addEventListener('ended', async () => { if (screen === shared) await stopScreen(); });
  } catch (error) {
    addMessage('atrium', `screen sharing: ${error.message}`);
    await stopScreen();
  }
};
async function stopScreen() {
  const had = room?.published.has('screen');
  screen?.stop();
  screen = null;
  removeTile(room?.peerId, 'screen');
  $('screen').setAttribute('aria-pressed', 'false');
  $('screen').textContent = 'Share screen';
  if (had) await room.unpublish('screen').catch(() => {});
}
$('leave').onclick = async () => { await room?.leave(); };
$('message-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const text = $('message').value.trim();
  if (!text || !room) return;
  $('message').value = '';
  addMessage(`${room.meta?.name ?? room.peerId} (you)`, text);
  try {
    await room.send({ text });
  } catch (error) {
    addMessage('atrium', `not sent: ${error.message}`);
  }
});

window.demo = { join, room: null, tiles };
