// Atrium room SDK: one WebSocket for signalling, one RTCPeerConnection for media (docs/protocol.md, v1).
//
//   import { connect } from '/web/sdk/atrium.js';
//   const room = await connect(location.origin, { room: 'lobby', peer: 'alice', meta: { name: 'Alice' } });
//   const show = async (t) => { video.srcObject = new MediaStream([await room.subscribe(t.peer, t.track)]); };
//   room.on('track_published', show);
//   room.tracks.forEach(show);  // what was announced before on() (see below)
//   await room.publish(cameraTrack, { name: 'camera' });
//
// The room as it was at the join (peers and tracks already there) is announced while connect() runs, before the
// application can register handlers: it is in room.peers / room.tracks when connect() resolves. Registering the
// handlers and reading that state in the same synchronous step right after `await connect(...)` misses nothing
// and sees nothing twice.
//
// Every transceiver is created before the join (sending: audio, camera, screen; receiving: `receivers` of each
// kind), so nothing is ever renegotiated: publishing binds a sending MID to a track name, subscribing binds a free
// receiving MID to (peer, track). When the socket drops without leave(), the room resumes its session on a new
// socket within the grace period, keeping the same peer connection, and emits 'reconnected'.

export type Mode = 'auto' | 'manual';
export type Kind = 'audio' | 'video';
export type ReceiverState = 'waiting' | 'live' | 'paused' | 'idle' | 'source_gone';

export interface ConnectOptions {
  room: string;
  peer: string;
  /** Any JSON: what the others see of this peer (e.g. {name: 'Alice'}). */
  meta?: unknown;
  /** Access token (JWT), needed when the server runs with --auth-secret. */
  token?: string;
  /** 'manual': other peers are invisible until subscribePeer(). Default 'auto'. */
  peers?: Mode;
  /** 'manual': other peers' tracks are invisible until subscribePeer(). Default 'auto'. */
  tracks?: Mode;
  /** Receiving transceivers of each kind: how many remote videos (and audios) can be attached at once. Default 8. */
  receivers?: number;
  /** Sending transceivers of each kind. Default {audio: 1, video: 2} (named 'audio', 'camera', 'screen'). */
  senders?: { audio?: number; video?: number };
  /** The 'camera' sender sends simulcast: true for three layers (rids l, m, h at 1/4, 1/2 and full resolution, at
   *  most 150 kbit/s, 500 kbit/s and 1.5 Mbit/s), or your own encodings, lowest first. Each subscriber gets the
   *  layer its link carries; layers no subscriber can take are paused (see bitrate_hint). Default false. */
  simulcast?: boolean | RTCRtpEncodingParameters[];
  rtcConfiguration?: RTCConfiguration;
  /** Video codecs offered, in order of preference (mime subtypes). Default ['VP8', 'H264']. Offering every codec
   *  the browser has on every transceiver makes an offer of ~60 KB, near the protocol's 64 KiB message limit. */
  videoCodecs?: string[];
  /** How long to try resuming after the socket dropped (the server keeps the session 30 s). Default 25000. */
  resumeWithinMs?: number;
  /** A request without an answer after this long is rejected with code TIMEOUT. Default 10000. */
  requestTimeoutMs?: number;
  /** Ask the server for its ICE servers (STUN, TURN with a fresh credential) before the offer and add them to
   *  rtcConfiguration's. Default true. */
  serverIceServers?: boolean;
  /** The media connection (ICE + DTLS) must be up this long after the join's answer, else the room closes with
   *  code ICE_FAILED (also when the browser reports ICE failed). Default 10000. */
  mediaTimeoutMs?: number;
}

export interface PublishOptions {
  /** Track name in the room (1-128 of A-Z a-z 0-9 - _ . ~). Default: the free sender's name ('audio', 'camera', 'screen'). */
  name?: string;
  meta?: unknown;
}

export interface Limits {
  /** bits per second, 0 = no limit */
  maxBitrate?: number;
  /** 0-255 */
  priority?: number;
  /** When bandwidth is short, a lower frame rate (VP8 temporal layers dropped) before a smaller simulcast layer. */
  lowerFrameRate?: boolean;
  paused?: boolean;
}

export interface PeerInfo {
  peer: string;
  meta: unknown;
}

export interface TrackInfo {
  peer: string;
  track: string;
  kind: Kind;
  meta: unknown;
}

export interface LocalTrack {
  name: string;
  kind: Kind;
  mid: string;
  meta: unknown;
  track: MediaStreamTrack | null;
}

export interface Subscription {
  peer: string;
  track: string;
  kind: Kind;
  mid: string;
  /** The receiving transceiver's track: it carries (peer, track) while attached. */
  receiver: MediaStreamTrack;
  state: ReceiverState;
}

/** One entry of the room's active-speaker list: `level` in dBov, 0 the loudest, -127 silence (RFC 6464). */
export interface ActiveSpeaker {
  peer: string;
  level: number;
}

export interface RoomEvents {
  peer_joined: PeerInfo;
  peer_left: { peer: string };
  peer_meta: PeerInfo;
  track_published: TrackInfo;
  track_unpublished: { peer: string; track: string };
  track_meta: TrackInfo;
  receiver_state: { mid: string; peer: string; track: string; state: ReceiverState };
  message: { from: string; data: unknown; direct: boolean };
  bitrate_hint: { track: string; bitrate: number };
  /** Who speaks, dominant speaker first (this peer included); at most 4 a second, only on change; empty: none
   *  yet. Also in `room.activeSpeakers`. */
  active_speakers: { speakers: ActiveSpeaker[] };
  /** The simulcast layer the server forwards on a receiver (spatial -1: paused, the link is too thin). */
  receiver_layer: { mid: string; peer: string; track: string; spatial: number; temporal: number };
  error: { code: string; message: string };
  /** The socket dropped; the room is trying to resume (media keeps flowing meanwhile). */
  disconnected: { code: number; reason: string };
  /** The session was resumed on a new socket: same peer id, same peer connection. */
  reconnected: { session: string; peer: string };
  /** The room is over: left, the session could not be resumed, or media never connected (code ICE_FAILED). */
  closed: { reason: string; code?: string };
}

export type RoomEventName = keyof RoomEvents;

/** A failed request: `code` is the server's error code (docs/protocol.md) or one of the client's own
 *  (CONNECTION_FAILED, DISCONNECTED, CLOSED, TIMEOUT, NO_SENDER, NOT_SUBSCRIBED, ICE_FAILED). */
export class AtriumError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(`${code}: ${message}`);
    this.name = 'AtriumError';
    this.code = code;
  }
}

interface Pending {
  resolve: (result: any) => void;
  reject: (error: AtriumError) => void;
  timer: ReturnType<typeof setTimeout>;
}

interface Queued {
  message: Record<string, unknown>;
  resolve: (result: any) => void;
  reject: (error: AtriumError) => void;
}

interface Sender {
  label: string;
  kind: Kind;
  transceiver: RTCRtpTransceiver;
  published: LocalTrack | null;
}

type Handler<K extends RoomEventName> = (event: RoomEvents[K]) => void;

const key = (peer: string, track: string) => `${peer}/${track}`;  // '/' is not a name character
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** ws(s)://host/sdk/v1 from an http(s) or ws(s) URL (a bare origin gets the path). */
export function socketUrl(url?: string): string {
  const u = new URL(url ?? '/', globalThis.location?.href);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  if (!u.pathname.endsWith('/sdk/v1')) u.pathname = `${u.pathname.replace(/\/$/, '')}/sdk/v1`;
  return u.toString();
}

function openSocket(url: string, timeoutMs: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => {
      ws.close();
      reject(new AtriumError('CONNECTION_FAILED', `${url}: no connection within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.onopen = () => {
      clearTimeout(timer);
      resolve(ws);
    };
    ws.onerror = () => {
      clearTimeout(timer);
      reject(new AtriumError('CONNECTION_FAILED', `${url}: the WebSocket could not connect`));
    };
  });
}

/** How the room's mix is named in `subscriptions` and receiver events (no peer can be named `*`). */
export const MIX_PEER = '*';
export const MIX_TRACK = 'mix';

export class Room {
  readonly roomName: string;
  readonly peerId: string;
  /** The other peers this one can see. */
  readonly peers = new Map<string, PeerInfo>();
  /** The other peers' tracks this one can see, by `${peer}/${track}`. */
  readonly tracks = new Map<string, TrackInfo>();
  /** What this peer publishes, by name. */
  readonly published = new Map<string, LocalTrack>();
  /** Attached receivers, by `${peer}/${track}`. */
  readonly subscriptions = new Map<string, Subscription>();
  /** The room's speakers as last announced (active_speakers), dominant first; empty while nobody spoke. */
  activeSpeakers: ActiveSpeaker[] = [];
  readonly pc: RTCPeerConnection;
  meta: unknown;
  session = '';
  state: 'connecting' | 'connected' | 'reconnecting' | 'closed' = 'connecting';

  private ws: WebSocket | null = null;
  private readonly url: string;
  private readonly options: ConnectOptions;
  private resumeSecret = '';
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private queued: Queued[] = [];
  private readonly handlers = new Map<string, Set<(event: any) => void>>();
  private readonly senders: Sender[] = [];
  private replay: { peers: Set<string>; tracks: Set<string> } | null = null;
  private readonly receiverStates = new Map<string, ReceiverState>();  // by mid: events may beat the attach answer
  private keepalive: ReturnType<typeof setInterval> | undefined;

  /** Use connect(). */
  constructor(url: string, options: ConnectOptions) {
    this.url = socketUrl(url);
    this.options = options;
    this.roomName = options.room;
    this.peerId = options.peer;
    this.meta = options.meta ?? null;
    this.pc = new RTCPeerConnection(options.rtcConfiguration);
    const audio = options.senders?.audio ?? 1;
    const video = options.senders?.video ?? 2;
    for (let i = 0; i < audio; i++) this.addSender('audio', i === 0 ? 'audio' : `audio${i + 1}`);
    for (let i = 0; i < video; i++) {
      const label = ['camera', 'screen'][i] ?? `video${i + 1}`;
      this.addSender('video', label, label === 'camera' ? simulcastEncodings(options.simulcast) : undefined);
    }
    const receivers = options.receivers ?? 8;
    for (let i = 0; i < receivers; i++) this.pc.addTransceiver('video', { direction: 'recvonly' });
    for (let i = 0; i < receivers; i++) this.pc.addTransceiver('audio', { direction: 'recvonly' });
    this.preferCodecs(options.videoCodecs ?? ['VP8', 'H264']);
  }

  // Opus for audio; the chosen video codecs (H264: constrained baseline, packetization mode 1) with RTX.
  private preferCodecs(video: string[]) {
    if (typeof RTCRtpReceiver === 'undefined' || !RTCRtpReceiver.getCapabilities) return;
    const pick = (kind: Kind): RTCRtpCodecCapability[] => {
      const caps = RTCRtpReceiver.getCapabilities(kind)?.codecs ?? [];
      if (kind === 'audio') return caps.filter((c) => c.mimeType.toLowerCase() === 'audio/opus');
      const chosen: RTCRtpCodecCapability[] = [];
      for (const name of video) {
        const mime = `video/${name.toLowerCase()}`;
        let matching = caps.filter((c) => c.mimeType.toLowerCase() === mime);
        if (mime === 'video/h264') {
          const baseline = matching.filter((c) => /packetization-mode=1/.test(c.sdpFmtpLine ?? '') && /profile-level-id=42e0/.test(c.sdpFmtpLine ?? ''));
          if (baseline.length) matching = baseline.slice(0, 1);
        }
        chosen.push(...matching);
      }
      return chosen.length ? [...chosen, ...caps.filter((c) => c.mimeType.toLowerCase() === 'video/rtx')] : [];
    };
    const codecs = { audio: pick('audio'), video: pick('video') };
    for (const t of this.pc.getTransceivers()) {
      const kind = t.receiver.track.kind as Kind;
      if (!codecs[kind].length || !t.setCodecPreferences) continue;
      try {
        t.setCodecPreferences(codecs[kind]);
      } catch {
        // a browser that refuses the list offers everything it has
      }
    }
  }

  private addSender(kind: Kind, label: string, sendEncodings?: RTCRtpEncodingParameters[]) {
    const transceiver = this.pc.addTransceiver(kind, sendEncodings ? { direction: 'sendonly', sendEncodings } : { direction: 'sendonly' });
    this.senders.push({ label, kind, transceiver, published: null });
  }

  /** The current signalling socket (diagnostics and tests; closing it makes the room resume). */
  get socket(): WebSocket | null {
    return this.ws;
  }

  // ---- events ----

  on<K extends RoomEventName>(name: K, handler: Handler<K>): () => void {
    let set = this.handlers.get(name);
    if (!set) this.handlers.set(name, (set = new Set()));
    set.add(handler);
    return () => this.off(name, handler);
  }

  off<K extends RoomEventName>(name: K, handler: Handler<K>): void {
    this.handlers.get(name)?.delete(handler);
  }

  private emit<K extends RoomEventName>(name: K, event: RoomEvents[K]) {
    for (const handler of [...(this.handlers.get(name) ?? [])]) {
      try {
        handler(event);
      } catch (error) {
        console.error(`atrium: '${name}' handler threw`, error);
      }
    }
  }

  // ---- joining, the socket, resuming ----

  /** @internal connect() calls it: socket, ICE servers, offer, join, answer. */
  async join(): Promise<void> {
    const ws = await openSocket(this.url, this.options.requestTimeoutMs ?? 10_000);
    this.bind(ws);
    // The ICE servers must be in the configuration before the offer starts gathering: a browser does not add
    // TURN candidates to a gathering already under way (only an ICE restart would).
    if (this.options.serverIceServers ?? true) {
      try {
        const r = await this.call({
          type: 'ice_servers',
          room: this.roomName,
          peer: this.peerId,
          ...(this.options.token ? { token: this.options.token } : {}),
        });
        if (Array.isArray(r?.ice_servers) && r.ice_servers.length) {
          this.pc.setConfiguration({
            ...this.pc.getConfiguration(),
            iceServers: [...(this.options.rtcConfiguration?.iceServers ?? []), ...r.ice_servers],
          });
        }
      } catch (error) {
        // An older server answers NOT_JOINED: go on without; a closed socket fails the join below.
        if ((error as AtriumError).code === 'DISCONNECTED') throw error;
      }
    }
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    let result: any;
    try {
      result = await this.call({
        type: 'join',
        room: this.roomName,
        peer: this.peerId,
        meta: this.meta,
        peers: this.options.peers ?? 'auto',
        tracks: this.options.tracks ?? 'auto',
        offer: this.pc.localDescription?.sdp ?? offer.sdp,
        ...(this.options.token ? { token: this.options.token } : {}),
      });
    } catch (error) {
      this.shutdown('the join failed');
      throw error;
    }
    this.session = result.session;
    this.resumeSecret = result.resume_secret;
    this.state = 'connected';
    await this.pc.setRemoteDescription({ type: 'answer', sdp: result.answer });
    this.watchMedia();
    this.keepalive = setInterval(() => {
      if (this.state === 'connected') this.call({ type: 'ping' }).catch(() => {});
    }, 15_000);
  }

  // ICE that fails (or never connects: e.g. a TURN server that refuses the credential) ends the room with
  // a clear code instead of leaving it joined without media.
  private watchMedia() {
    const failed = (why: string) => {
      if (this.state === 'closed') return;
      this.emit('error', { code: 'ICE_FAILED', message: why });
      this.call({ type: 'leave' }).catch(() => {});
      this.shutdown(why, 'ICE_FAILED');
    };
    const ms = this.options.mediaTimeoutMs ?? 10_000;
    const timer = setTimeout(() => {
      if (this.pc.connectionState !== 'connected')
        failed(`the media connection did not come up within ${ms} ms (ICE ${this.pc.iceConnectionState}, connection ${this.pc.connectionState})`);
    }, ms);
    this.pc.addEventListener('connectionstatechange', () => {
      if (this.pc.connectionState === 'connected') clearTimeout(timer);
      if (this.pc.connectionState === 'failed') {
        clearTimeout(timer);
        failed('ICE failed: no candidate pair works (blocked UDP, or a TURN server that refused us)');
      }
    });
  }

  private bind(ws: WebSocket) {
    this.ws = ws;
    ws.onmessage = (m) => {
      if (ws === this.ws) this.onMessage(m.data);
    };
    ws.onclose = (e) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.failPending(new AtriumError('DISCONNECTED', `the socket closed (${e.code} ${e.reason})`));
      if (this.state === 'connected') this.resume(e.code, e.reason);
    };
    ws.onerror = () => {};
  }

  private async resume(code: number, reason: string) {
    this.state = 'reconnecting';
    this.emit('disconnected', { code, reason });
    const deadline = Date.now() + (this.options.resumeWithinMs ?? 25_000);
    let delay = 100;
    while (this.state === 'reconnecting' && Date.now() < deadline) {
      try {
        const ws = await openSocket(this.url, Math.max(1000, Math.min(5000, deadline - Date.now())));
        if (this.state !== 'reconnecting') {
          ws.close();
          return;
        }
        this.bind(ws);
        this.replay = { peers: new Set(), tracks: new Set() };
        await this.call({
          type: 'join',
          room: this.roomName,
          peer: this.peerId,
          resume: { session: this.session, secret: this.resumeSecret },
          ...(this.options.token ? { token: this.options.token } : {}),
        });
        // The room is replayed right after the answer; a ping's answer comes after the last of it.
        await this.call({ type: 'ping' });
        this.reconcile();
        this.state = 'connected';
        const queued = this.queued;
        this.queued = [];
        for (const q of queued) this.call(q.message).then(q.resolve, q.reject);
        this.emit('reconnected', { session: this.session, peer: this.peerId });
        return;
      } catch (error) {
        this.replay = null;
        const c = (error as AtriumError).code ?? '';
        if (c === 'RESUME_FAILED' || c.startsWith('TOKEN_') || c === 'PERMISSION_DENIED') {
          this.shutdown('the session could not be resumed', c);
          return;
        }
        await sleep(delay);
        delay = Math.min(2000, delay * 2);
      }
    }
    if (this.state === 'reconnecting') this.shutdown('the session could not be resumed in time', 'RESUME_FAILED');
  }

  // Peers and tracks that were not replayed went away while the socket was down.
  private reconcile() {
    const replay = this.replay;
    this.replay = null;
    if (!replay) return;
    for (const [k, t] of [...this.tracks]) if (!replay.tracks.has(k)) this.dropTrack(t.peer, t.track);
    for (const peer of [...this.peers.keys()]) if (!replay.peers.has(peer)) this.dropPeer(peer);
  }

  private failPending(error: AtriumError) {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(error);
    }
    this.pending.clear();
  }

  private shutdown(reason: string, code?: string) {
    const was = this.state;
    this.state = 'closed';
    clearInterval(this.keepalive);
    const ws = this.ws;
    this.ws = null;
    ws?.close();
    this.failPending(new AtriumError('CLOSED', reason));
    for (const q of this.queued) q.reject(new AtriumError('CLOSED', reason));
    this.queued = [];
    this.pc.close();
    if (was !== 'connecting') this.emit('closed', { reason, ...(code ? { code } : {}) });
  }

  // ---- requests ----

  private call(message: Record<string, unknown>): Promise<any> {
    if (this.state === 'closed') return Promise.reject(new AtriumError('CLOSED', 'the room is closed'));
    if (this.state === 'reconnecting' && message.type !== 'join' && message.type !== 'ping')
      return new Promise((resolve, reject) => this.queued.push({ message, resolve, reject }));
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN)
      return Promise.reject(new AtriumError('DISCONNECTED', 'the socket is not open'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const ms = this.options.requestTimeoutMs ?? 10_000;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new AtriumError('TIMEOUT', `no answer to '${message.type}' within ${ms} ms`));
      }, ms);
      this.pending.set(id, { resolve, reject, timer });
      ws.send(JSON.stringify({ ...message, id }));
    });
  }

  private onMessage(data: unknown) {
    let m: any;
    try {
      m = JSON.parse(String(data));
    } catch {
      return;
    }
    if (m?.type === 'response') {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.result ?? {});
      else p.reject(new AtriumError(m.error?.code ?? 'UNKNOWN', m.error?.message ?? 'request failed'));
    } else if (m?.type === 'event') {
      this.onEvent(m);
    }
  }

  private onEvent(e: any) {
    switch (e.event) {
      case 'peer_joined': {
        this.replay?.peers.add(e.peer);
        const known = this.peers.get(e.peer);
        const info: PeerInfo = { peer: e.peer, meta: e.meta ?? null };
        this.peers.set(e.peer, info);
        if (!known) this.emit('peer_joined', info);
        else if (!sameJson(known.meta, info.meta)) this.emit('peer_meta', info);
        break;
      }
      case 'peer_left':
        this.dropPeer(e.peer);
        break;
      case 'peer_meta': {
        const info: PeerInfo = { peer: e.peer, meta: e.meta ?? null };
        this.peers.set(e.peer, info);
        this.emit('peer_meta', info);
        break;
      }
      case 'track_published': {
        const k = key(e.peer, e.track);
        this.replay?.tracks.add(k);
        const known = this.tracks.get(k);
        const info: TrackInfo = { peer: e.peer, track: e.track, kind: e.kind, meta: e.meta ?? null };
        this.tracks.set(k, info);
        if (!known) this.emit('track_published', info);
        else if (!sameJson(known.meta, info.meta)) this.emit('track_meta', info);
        break;
      }
      case 'track_unpublished':
        this.dropTrack(e.peer, e.track);
        break;
      case 'track_meta': {
        const k = key(e.peer, e.track);
        const known = this.tracks.get(k);
        const info: TrackInfo = { peer: e.peer, track: e.track, kind: known?.kind ?? 'video', meta: e.meta ?? null };
        if (known) this.tracks.set(k, info);
        this.emit('track_meta', info);
        break;
      }
      case 'receiver_state': {
        const k = key(e.peer, e.track);
        const sub = this.subscriptions.get(k);
        this.receiverStates.set(e.mid, e.state);
        if (sub && sub.mid === e.mid) {
          sub.state = e.state;
          if (e.state === 'source_gone') this.subscriptions.delete(k);
        }
        this.emit('receiver_state', { mid: e.mid, peer: e.peer, track: e.track, state: e.state });
        break;
      }
      case 'message':
        this.emit('message', { from: e.from, data: e.data, direct: !!e.direct });
        break;
      case 'receiver_layer':
        this.emit('receiver_layer', { mid: e.mid, peer: e.peer, track: e.track, spatial: e.spatial, temporal: e.temporal });
        break;
      case 'bitrate_hint':
        void this.pauseUnusedLayers(e.track, e.bitrate);
        this.emit('bitrate_hint', { track: e.track, bitrate: e.bitrate });
        break;
      case 'active_speakers': {
        const speakers: ActiveSpeaker[] = Array.isArray(e.speakers)
          ? e.speakers.map((x: any) => ({ peer: String(x.peer), level: Number(x.level) }))
          : [];
        this.activeSpeakers = speakers;
        this.emit('active_speakers', { speakers });
        break;
      }
      case 'error':
        this.emit('error', { code: e.code, message: e.message });
        break;
    }
  }

  private dropTrack(peer: string, track: string) {
    const k = key(peer, track);
    if (!this.tracks.delete(k)) return;
    const sub = this.subscriptions.get(k);
    if (sub) {
      this.subscriptions.delete(k);
      sub.state = 'source_gone';
    }
    this.emit('track_unpublished', { peer, track });
  }

  private dropPeer(peer: string) {
    for (const t of [...this.tracks.values()]) if (t.peer === peer) this.dropTrack(t.peer, t.track);
    if (this.peers.delete(peer)) this.emit('peer_left', { peer });
  }

  // ---- publishing ----

  // The server says what the most demanding subscriber of a track can take (0: nobody watches). A subscriber
  // receives one simulcast layer, so a layer whose bitrate no subscriber can take is only cost: pause it. The
  // lowest layer always stays, so that a new subscriber starts at once.
  private async pauseUnusedLayers(name: string, bitrate: number) {
    const sender = this.senders.find((s) => s.published?.name === name)?.transceiver.sender;
    if (!sender) return;
    const params = sender.getParameters();
    if (!params.encodings || params.encodings.length < 2) return;
    let changed = false;
    params.encodings.forEach((enc, i) => {
      const wanted = i === 0 || bitrate >= 0xffffffff || (enc.maxBitrate ?? Infinity) * 0.7 <= bitrate;
      if (enc.active !== wanted) {
        enc.active = wanted;
        changed = true;
      }
    });
    if (!changed) return;
    try {
      await sender.setParameters(params);
    } catch (error) {
      console.warn('atrium: could not pause/resume simulcast layers', error);
    }
  }

  /** Publishes a local track on a free sending transceiver of its kind; resolves once the room announced it. */
  async publish(track: MediaStreamTrack, options: PublishOptions = {}): Promise<LocalTrack> {
    const kind = track.kind as Kind;
    const free = this.senders.filter((s) => s.kind === kind && !s.published);
    const sender = free.find((s) => s.label === options.name) ?? free[0];
    if (!sender) throw new AtriumError('NO_SENDER', `every ${kind} sender is in use; unpublish one first`);
    const name = options.name ?? sender.label;
    if (this.published.has(name)) throw new AtriumError('TRACK_EXISTS', `you already publish '${name}'`);
    const local: LocalTrack = { name, kind, mid: sender.transceiver.mid ?? '', meta: options.meta ?? null, track };
    sender.published = local;
    this.published.set(name, local);
    try {
      await sender.transceiver.sender.replaceTrack(track);
      await this.call({ type: 'publish', name, kind, mid: local.mid, meta: local.meta });
    } catch (error) {
      sender.published = null;
      this.published.delete(name);
      await sender.transceiver.sender.replaceTrack(null).catch(() => {});
      throw error;
    }
    return local;
  }

  /** Stops publishing `name`: the others see track_unpublished; its sender is free again. */
  async unpublish(name: string): Promise<void> {
    await this.call({ type: 'unpublish', name });
    const sender = this.senders.find((s) => s.published?.name === name);
    this.published.delete(name);
    if (sender) {
      sender.published = null;
      await sender.transceiver.sender.replaceTrack(null);
    }
  }

  /** Swaps what a published track sends without telling the room (null: send nothing, e.g. a hard mute). */
  async replaceTrack(name: string, track: MediaStreamTrack | null): Promise<void> {
    const sender = this.senders.find((s) => s.published?.name === name);
    if (!sender || !sender.published) throw new AtriumError('TRACK_NOT_FOUND', `you publish no track '${name}'`);
    await sender.transceiver.sender.replaceTrack(track);
    sender.published.track = track;
  }

  async updateMeta(meta: unknown): Promise<void> {
    await this.call({ type: 'update_meta', meta });
    this.meta = meta;
  }

  async updateTrackMeta(name: string, meta: unknown): Promise<void> {
    await this.call({ type: 'update_track_meta', name, meta });
    const local = this.published.get(name);
    if (local) local.meta = meta;
  }

  // ---- receiving ----

  /** Attaches a receiver to another peer's track; resolves with the track that carries it. */
  async subscribe(peer: string, track: string): Promise<MediaStreamTrack> {
    const result = await this.call({ type: 'attach', peer, track });
    return this.bindReceiver(peer, track, this.tracks.get(key(peer, track))?.kind, result.mid);
  }

  // The subscription (peer, track) now on the receiver `mid` the server chose: its track, and its state if the
  // server already said it (receiver_state may arrive before the answer).
  private bindReceiver(peer: string, track: string, kind: Kind | undefined, mid: string): MediaStreamTrack {
    const transceiver = this.pc.getTransceivers().find((t) => t.mid === mid);
    if (!transceiver) throw new AtriumError('NO_RECEIVER', `the server attached mid ${mid}, which this connection lacks`);
    const k = key(peer, track);
    const sub: Subscription = this.subscriptions.get(k) ?? {
      peer,
      track,
      kind: kind ?? (transceiver.receiver.track.kind as Kind),
      mid,
      receiver: transceiver.receiver.track,
      state: 'waiting',
    };
    const state = this.receiverStates.get(mid);
    if (state && state !== 'source_gone' && state !== 'idle') sub.state = state;
    this.subscriptions.set(k, sub);
    return transceiver.receiver.track;
  }

  /** Detaches the receiver of (peer, track); it is free for another subscription. */
  async unsubscribe(peer: string, track: string): Promise<void> {
    const sub = this.subscriptions.get(key(peer, track));
    if (!sub) throw new AtriumError('NOT_SUBSCRIBED', `nothing is attached to ${peer}/${track}`);
    await this.call({ type: 'detach', mid: sub.mid });
    this.receiverStates.delete(sub.mid);
    if (this.subscriptions.get(key(peer, track)) === sub) this.subscriptions.delete(key(peer, track));
  }

  /** Attaches a receiver to the room's audio mix: everyone's audio but this peer's own, the 3 loudest at a
   *  time, as one Opus track (docs/mixer.md). Resolves with the track that carries it. The mix is listed in
   *  `subscriptions` (and named in receiver_state) as peer `*`, track `mix`; subscribing twice gives the same
   *  track. */
  async subscribeMix(): Promise<MediaStreamTrack> {
    const result = await this.call({ type: 'subscribe_mix' });
    return this.bindReceiver(MIX_PEER, MIX_TRACK, 'audio', result.mid);
  }

  /** Detaches the mix's receiver; it is free for another subscription. */
  async unsubscribeMix(): Promise<void> {
    const k = key(MIX_PEER, MIX_TRACK);
    const sub = this.subscriptions.get(k);
    if (!sub) throw new AtriumError('NOT_SUBSCRIBED', 'the mix is not attached');
    await this.call({ type: 'unsubscribe_mix' });
    this.receiverStates.delete(sub.mid);
    if (this.subscriptions.get(k) === sub) this.subscriptions.delete(k);
  }

  /** Limits what the server forwards of (peer, track) to this peer. */
  async setLimits(peer: string, track: string, limits: Limits): Promise<void> {
    const sub = this.subscriptions.get(key(peer, track));
    if (!sub) throw new AtriumError('NOT_SUBSCRIBED', `nothing is attached to ${peer}/${track}`);
    await this.call({
      type: 'set_limits',
      mid: sub.mid,
      ...(limits.maxBitrate !== undefined ? { max_bitrate: Math.max(0, Math.round(limits.maxBitrate)) } : {}),
      ...(limits.lowerFrameRate !== undefined ? { lower_frame_rate: !!limits.lowerFrameRate } : {}),
      ...(limits.priority !== undefined ? { priority: Math.max(0, Math.min(255, Math.round(limits.priority))) } : {}),
      ...(limits.paused !== undefined ? { paused: limits.paused } : {}),
    });
  }

  /** Manual mode: makes `peer` (and its tracks) visible to this one. */
  async subscribePeer(peer: string): Promise<void> {
    await this.call({ type: 'subscribe_peer', peer });
  }

  async unsubscribePeer(peer: string): Promise<void> {
    await this.call({ type: 'unsubscribe_peer', peer });
  }

  // ---- messages, leaving ----

  /** Sends any JSON to everyone else in the room, or to one peer. */
  async send(data: unknown, to?: string): Promise<void> {
    await this.call({ type: 'message', data, ...(to !== undefined ? { to } : {}) });
  }

  /** Leaves the room: the others see peer_left at once. Local tracks are not stopped. */
  async leave(): Promise<void> {
    if (this.state === 'closed') return;
    if (this.state === 'connected') await this.call({ type: 'leave' }).catch(() => {});
    this.shutdown('left');
  }
}

/** Joins a room: creates the peer connection with its transceivers, opens the socket, joins with the offer. */
export async function connect(url: string, options: ConnectOptions): Promise<Room> {
  const room = new Room(url, options);
  try {
    await room.join();
  } catch (error) {
    room.pc.close();
    if (error instanceof AtriumError) throw error;
    throw new AtriumError('CONNECTION_FAILED', String((error as Error)?.message ?? error));
  }
  return room;
}

function simulcastEncodings(option: ConnectOptions['simulcast']): RTCRtpEncodingParameters[] | undefined {
  if (!option) return undefined;
  if (Array.isArray(option)) return option;
  return [
    { rid: 'l', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
    { rid: 'm', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
    { rid: 'h', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
  ];
}
