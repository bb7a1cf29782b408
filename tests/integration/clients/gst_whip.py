#!/usr/bin/python3
"""A WHIP publisher / WHEP receiver built on GStreamer's webrtcbin (Debian: gstreamer1.0-plugins-bad, -nice, -good,
-ugly, -libav, python3-gst-1.0, gir1.2-gst-plugins-bad-1.0), for tests/integration/gstreamer.test.mjs.

  gst_whip.py publish URL --codec vp8|h264 [--duration S]      until S seconds (or SIGTERM), then DELETE
  gst_whip.py receive URL --codec vp8|h264 [--frames N --audio N]  until N frames and N audio buffers are decoded

Non-trickle: the offer is POSTed once ICE gathering is complete, so it carries all candidates. stdout gets JSON lines
({"event": "connected"}, then a final one with the counts); errors go to stderr and the exit code is 1 (2 on timeout).
libnice never gathers loopback addresses: run this in a network namespace with a real (veth) route to the server.
"""
import argparse, json, os, signal, sys, time, urllib.error, urllib.parse, urllib.request

import gi
gi.require_version('Gst', '1.0'); gi.require_version('GstWebRTC', '1.0'); gi.require_version('GstSdp', '1.0')
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

FB = 'rtcp-fb-nack=(boolean)true,rtcp-fb-nack-pli=(boolean)true,rtcp-fb-ccm-fir=(boolean)true'
H264_FMTP = 'packetization-mode=(string)1,profile-level-id=(string)42e01f'
VIDEO = {
    'vp8': ('vp8enc deadline=1 keyframe-max-dist=30 ! rtpvp8pay pt=96 picture-id-mode=15-bit',
            'encoding-name=VP8,payload=96', 'rtpvp8depay ! vp8dec'),
    'h264': ('x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 '
             '! video/x-h264,profile=constrained-baseline,level=(string)3.1 ! rtph264pay pt=102 config-interval=-1',
             'encoding-name=H264,payload=102,' + H264_FMTP, 'rtph264depay ! h264parse ! avdec_h264'),
}
AUDIO_CAPS = 'application/x-rtp,media=audio,clock-rate=48000,encoding-name=OPUS,payload=111,encoding-params=(string)2'


def fail(msg, code=1):  # also from GLib callbacks, where SystemExit would not end the process
    print(f'gst_whip: {msg}', file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(code)


def log(msg):  # steps, on stderr: what the test prints when it fails
    print(f'gst_whip: {time.strftime("%H:%M:%S")} {msg}', file=sys.stderr, flush=True)


def http(method, url, body=None, ctype=None):
    req = urllib.request.Request(url, data=body.encode() if body else None, method=method)
    if ctype:
        req.add_header('Content-Type', ctype)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        fail(f'{method} {url}: HTTP {e.code}: {e.read().decode().strip()}')
    except OSError as e:
        fail(f'{method} {url}: {e}')


class Client:
    def __init__(self, a):
        self.a, self.loop, self.resource, self.started = a, GLib.MainLoop(), None, time.monotonic()
        self.stopped, self.timer = False, None
        self.counts = {'videoFrames': 0, 'width': None, 'height': None, 'audioBuffers': 0}
        enc, rtp, _ = VIDEO[a.codec]
        if a.mode == 'publish':
            desc = (f'webrtcbin name=w bundle-policy=max-bundle '
                    f'videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=480,framerate=30/1 '
                    f'! videoconvert ! queue ! {enc} ! application/x-rtp,media=video,clock-rate=90000,{FB} ! w. '
                    f'audiotestsrc is-live=true wave=sine freq=440 ! audioconvert ! audioresample ! queue '
                    f'! opusenc ! rtpopuspay pt=111 ! {AUDIO_CAPS} ! w.')
        else:  # parse_launch of one element gives that element, not a pipeline: a bin around it
            desc = 'webrtcbin name=w bundle-policy=max-bundle fakesrc num-buffers=0 ! fakesink'
        self.pipe = Gst.parse_launch(desc)
        self.w = self.pipe.get_by_name('w')
        if a.mode == 'receive':
            recv = GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY
            self.w.emit('add-transceiver', recv, Gst.Caps.from_string(
                f'application/x-rtp,media=video,clock-rate=90000,{rtp},{FB}'))
            self.w.emit('add-transceiver', recv, Gst.Caps.from_string(AUDIO_CAPS))
            self.w.connect('pad-added', self.on_pad)
        self.w.connect('notify::ice-gathering-state', self.on_gathering)
        self.w.connect('notify::connection-state', self.on_state)
        bus = self.pipe.get_bus()
        bus.add_signal_watch()
        bus.connect('message::error', lambda _b, m: self.stop(f'pipeline error: {m.parse_error()[0].message} '
                                                              f'({m.parse_error()[1]})'))

    def run(self):
        self.pipe.set_state(Gst.State.PLAYING)
        if self.a.mode == 'publish':  # send directions, and wait for the payloaders' caps before the offer
            for pad in self.w.sinkpads:
                pad.get_property('transceiver').set_property(
                    'direction', GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY)
            GLib.timeout_add(50, self.offer_when_caps)
        else:
            self.offer()
        what = 'not connected' if self.a.mode == 'publish' else 'not enough decoded'
        self.timer = GLib.timeout_add(int(self.a.timeout * 1000), lambda: self.stop(f'timeout: {what} after {self.a.timeout} s', 2))
        GLib.timeout_add(500, self.tick)
        for s in (signal.SIGTERM, signal.SIGINT):
            GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, s, lambda: self.stop(None) or False)
        self.loop.run()

    def offer_when_caps(self):
        if any(p.get_current_caps() is None for p in self.w.sinkpads):
            return True
        self.offer()
        return False

    def offer(self):
        def created(promise, _):
            reply = promise.get_reply()
            offer = reply.get_value('offer') if reply and reply.has_field('offer') else None
            if offer is None:
                err = reply.get_value('error') if reply and reply.has_field('error') else None
                return GLib.idle_add(self.stop, f'create-offer failed: {err.message if err else reply}')
            log('offer created')
            self.w.emit('set-local-description', offer, Gst.Promise.new())
        self.w.emit('create-offer', None, Gst.Promise.new_with_change_func(created, None))
        # With no usable interface (libnice skips loopback, and a veth without carrier yet) gathering never ends.
        GLib.timeout_add(5000, lambda: self.resource is None and self.stop(
            'ICE gathering not complete after 5 s: no usable interface? (libnice skips loopback and links '
            'without carrier)') and False)

    def on_gathering(self, *_):
        log(f"ICE gathering {self.w.get_property('ice-gathering-state').value_nick}")
        if self.w.get_property('ice-gathering-state') == GstWebRTC.WebRTCICEGatheringState.COMPLETE:
            GLib.idle_add(self.post)

    def post(self):
        sdp = self.w.get_property('local-description').sdp.as_text()
        if 'a=candidate' not in sdp:
            return self.stop('ICE gathering found no candidate (libnice skips loopback: use a veth)')
        # x264 writes constrained baseline as 42c0xx; the server matches profile-level-id as a string (42e01f).
        sdp = sdp.replace('profile-level-id=42c01f', 'profile-level-id=42e01f')
        status, headers, body = http('POST', self.a.url, sdp, 'application/sdp')
        if status != 201:
            return self.stop(f'POST {self.a.url}: HTTP {status}: {body.strip()}')
        self.resource = urllib.parse.urljoin(self.a.url, headers.get('Location', ''))
        log(f'POST {self.a.url}: {status}, session {self.resource}')
        ok, msg = GstSdp.SDPMessage.new_from_text(body)
        answer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, msg)
        self.w.emit('set-remote-description', answer, Gst.Promise.new())
        return False

    def on_state(self, *_):  # from a streaming thread: handled in the main loop
        GLib.idle_add(self.connection_changed, self.w.get_property('connection-state'))

    def connection_changed(self, state):
        log(f'connection {state.value_nick}')
        if state == GstWebRTC.WebRTCPeerConnectionState.CONNECTED:
            self.emit({'event': 'connected', 'after': round(time.monotonic() - self.started, 2)})
            if self.a.mode == 'publish' and self.timer:
                GLib.source_remove(self.timer)
                self.timer = None
        elif state == GstWebRTC.WebRTCPeerConnectionState.FAILED:
            self.stop('peer connection failed (ICE or DTLS)')
        return False

    def on_pad(self, _w, pad):
        media = pad.get_current_caps().get_structure(0).get_string('media')
        chain = VIDEO[self.a.codec][2] if media == 'video' else 'rtpopusdepay ! opusdec'
        sink = Gst.parse_bin_from_description(f'queue ! {chain} name=dec ! fakesink sync=false', True)
        self.pipe.add(sink)
        sink.sync_state_with_parent()
        pad.link(sink.get_static_pad('sink'))
        sink.get_by_name('dec').get_static_pad('src').add_probe(Gst.PadProbeType.BUFFER, self.count, media)

    def count(self, pad, _info, media):
        if media == 'video':
            self.counts['videoFrames'] += 1
            s = pad.get_current_caps().get_structure(0)
            self.counts['width'], self.counts['height'] = s.get_value('width'), s.get_value('height')
        else:
            self.counts['audioBuffers'] += 1
        return Gst.PadProbeReturn.OK

    def tick(self):
        c, a = self.counts, self.a
        if a.mode == 'receive' and c['videoFrames'] >= a.frames and c['audioBuffers'] >= a.audio:
            self.stop(None)
        elif a.mode == 'publish' and a.duration and time.monotonic() - self.started > a.duration:
            self.stop(None)
        return True

    def emit(self, obj):
        print(json.dumps(obj), flush=True)

    def stop(self, error, code=1):
        if self.stopped:
            return False
        self.stopped = True
        if self.resource:
            http('DELETE', self.resource)
            self.resource = None
        self.pipe.set_state(Gst.State.NULL)
        self.emit({'event': 'done', 'mode': self.a.mode, 'codec': self.a.codec, 'error': error,
                   'seconds': round(time.monotonic() - self.started, 2), **self.counts})
        if error:
            fail(f'{error}; counts {json.dumps(self.counts)}', code)
        self.loop.quit()
        return False


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('mode', choices=['publish', 'receive'])
    p.add_argument('url', help='http://HOST:PORT/whip/ROOM (publish) or /whep/ROOM (receive)')
    p.add_argument('--codec', choices=sorted(VIDEO), default='vp8')
    p.add_argument('--duration', type=float, default=0, help='publish: stop after S seconds (0: until SIGTERM)')
    p.add_argument('--frames', type=int, default=60, help='receive: video frames to decode')
    p.add_argument('--audio', type=int, default=50, help='receive: audio buffers to decode')
    p.add_argument('--timeout', type=float, default=60, help='give up (exit 2) after S seconds')
    Gst.init(None)
    Client(p.parse_args()).run()


if __name__ == '__main__':
    main()
