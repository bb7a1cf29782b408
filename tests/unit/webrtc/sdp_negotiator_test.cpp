// WebRTC SDP accessors and server-side offer/answer on realistic browser offers, written down below:
//  - a Chromium WHIP offer (sendonly audio + video, the codec zoo Chrome offers, RTX, red/ulpfec, ssrc FID);
//  - a Chromium simulcast WHIP offer (rids q/h/f, a=simulcast:send);
//  - a WHEP recvonly offer;
//  - a Firefox sendrecv offer (session-level fingerprint, extmap directions, a data channel section).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "transport/webrtc/sdp/negotiator.h"
#include "media/sdp/sdp.h"
#include "transport/webrtc/sdp/webrtc_sdp.h"

namespace atrium::webrtc {
namespace {

constexpr std::string_view kChromeWhipOffer =
    "v=0\r\n"
    "o=- 3728401745212583212 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0 1\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=msid-semantic: WMS 5d6c2f6e-stream\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:Hx3k\r\n"
    "a=ice-pwd:8cVgq1Wm9r2OZpTqk4bXyLzA\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=sendonly\r\n"
    "a=msid:5d6c2f6e-stream 0a1b2c3d-audio\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=rtcp-fb:111 transport-cc\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:63 red/48000/2\r\n"
    "a=fmtp:63 111/111\r\n"
    "a=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:13 CN/8000\r\n"
    "a=rtpmap:110 telephone-event/48000\r\n"
    "a=rtpmap:126 telephone-event/8000\r\n"
    "a=ssrc:1001 cname:Qx7pLr2mN9sT4vWz\r\n"
    "a=ssrc:1001 msid:5d6c2f6e-stream 0a1b2c3d-audio\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 100 101 45 46 102 103 104 105 106 107 108 109 127 125 39 40 112 "
    "113 114 115 116\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:Hx3k\r\n"
    "a=ice-pwd:8cVgq1Wm9r2OZpTqk4bXyLzA\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:52:CE:E6:0F\r\n"
    "a=setup:actpass\r\n"
    "a=mid:1\r\n"
    "a=extmap:14 urn:ietf:params:rtp-hdrext:toffset\r\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:13 urn:3gpp:video-orientation\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
    "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n"
    "a=sendonly\r\n"
    "a=msid:5d6c2f6e-stream 4e5f6a7b-video\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 goog-remb\r\n"
    "a=rtcp-fb:96 transport-cc\r\n"
    "a=rtcp-fb:96 ccm fir\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=rtpmap:97 rtx/90000\r\n"
    "a=fmtp:97 apt=96\r\n"
    "a=rtpmap:98 VP9/90000\r\n"
    "a=rtcp-fb:98 goog-remb\r\n"
    "a=rtcp-fb:98 transport-cc\r\n"
    "a=rtcp-fb:98 ccm fir\r\n"
    "a=rtcp-fb:98 nack\r\n"
    "a=rtcp-fb:98 nack pli\r\n"
    "a=fmtp:98 profile-id=0\r\n"
    "a=rtpmap:99 rtx/90000\r\n"
    "a=fmtp:99 apt=98\r\n"
    "a=rtpmap:100 VP9/90000\r\n"
    "a=rtcp-fb:100 nack\r\n"
    "a=fmtp:100 profile-id=2\r\n"
    "a=rtpmap:101 rtx/90000\r\n"
    "a=fmtp:101 apt=100\r\n"
    "a=rtpmap:45 AV1/90000\r\n"
    "a=rtcp-fb:45 goog-remb\r\n"
    "a=rtcp-fb:45 transport-cc\r\n"
    "a=rtcp-fb:45 ccm fir\r\n"
    "a=rtcp-fb:45 nack\r\n"
    "a=rtcp-fb:45 nack pli\r\n"
    "a=fmtp:45 level-idx=5;profile=0;tier=0\r\n"
    "a=rtpmap:46 rtx/90000\r\n"
    "a=fmtp:46 apt=45\r\n"
    "a=rtpmap:102 H264/90000\r\n"
    "a=rtcp-fb:102 goog-remb\r\n"
    "a=rtcp-fb:102 transport-cc\r\n"
    "a=rtcp-fb:102 ccm fir\r\n"
    "a=rtcp-fb:102 nack\r\n"
    "a=rtcp-fb:102 nack pli\r\n"
    "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n"
    "a=rtpmap:103 rtx/90000\r\n"
    "a=fmtp:103 apt=102\r\n"
    "a=rtpmap:104 H264/90000\r\n"
    "a=rtcp-fb:104 nack\r\n"
    "a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f\r\n"
    "a=rtpmap:105 rtx/90000\r\n"
    "a=fmtp:105 apt=104\r\n"
    "a=rtpmap:106 H264/90000\r\n"
    "a=rtcp-fb:106 goog-remb\r\n"
    "a=rtcp-fb:106 transport-cc\r\n"
    "a=rtcp-fb:106 ccm fir\r\n"
    "a=rtcp-fb:106 nack\r\n"
    "a=rtcp-fb:106 nack pli\r\n"
    "a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
    "a=rtpmap:107 rtx/90000\r\n"
    "a=fmtp:107 apt=106\r\n"
    "a=rtpmap:108 H264/90000\r\n"
    "a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f\r\n"
    "a=rtpmap:109 rtx/90000\r\n"
    "a=fmtp:109 apt=108\r\n"
    "a=rtpmap:127 H264/90000\r\n"
    "a=rtcp-fb:127 nack\r\n"
    "a=rtcp-fb:127 nack pli\r\n"
    "a=fmtp:127 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f\r\n"
    "a=rtpmap:125 rtx/90000\r\n"
    "a=fmtp:125 apt=127\r\n"
    "a=rtpmap:39 H264/90000\r\n"
    "a=fmtp:39 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=f4001f\r\n"
    "a=rtpmap:40 rtx/90000\r\n"
    "a=fmtp:40 apt=39\r\n"
    "a=rtpmap:112 H264/90000\r\n"
    "a=fmtp:112 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f\r\n"
    "a=rtpmap:113 rtx/90000\r\n"
    "a=fmtp:113 apt=112\r\n"
    "a=rtpmap:114 red/90000\r\n"
    "a=rtpmap:115 rtx/90000\r\n"
    "a=fmtp:115 apt=114\r\n"
    "a=rtpmap:116 ulpfec/90000\r\n"
    "a=ssrc-group:FID 2001 2002\r\n"
    "a=ssrc:2001 cname:Qx7pLr2mN9sT4vWz\r\n"
    "a=ssrc:2001 msid:5d6c2f6e-stream 4e5f6a7b-video\r\n"
    "a=ssrc:2002 cname:Qx7pLr2mN9sT4vWz\r\n"
    "a=ssrc:2002 msid:5d6c2f6e-stream 4e5f6a7b-video\r\n";

constexpr std::string_view kChromeSimulcastOffer =
    "v=0\r\n"
    "o=- 8120932012312398132 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=msid-semantic: WMS\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 35 36\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:sImU\r\n"
    "a=ice-pwd:Zk3nW0b7yQd1Xe5Lr8Tg2Hs6\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "0F:E6:CE:52:AF:6F:EA:5E:8E:34:FD:3E:C0:A2:C2:2C:24:84:B4:13:3D:92:69:95:14:5E:59:22:C3:0E:FA:D2\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
    "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n"
    "a=sendonly\r\n"
    "a=msid:- 9a8b7c6d-video\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 goog-remb\r\n"
    "a=rtcp-fb:96 transport-cc\r\n"
    "a=rtcp-fb:96 ccm fir\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=rtpmap:97 rtx/90000\r\n"
    "a=fmtp:97 apt=96\r\n"
    "a=rtpmap:35 AV1/90000\r\n"
    "a=rtcp-fb:35 nack\r\n"
    "a=rtpmap:36 rtx/90000\r\n"
    "a=fmtp:36 apt=35\r\n"
    "a=rid:q send\r\n"
    "a=rid:h send\r\n"
    "a=rid:f send pt=96,35;max-width=1280;max-height=720\r\n"
    "a=simulcast:send q;h;~f\r\n";

constexpr std::string_view kWhepOffer =
    "v=0\r\n"
    "o=- 5498186869896684180 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0 1\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=msid-semantic: WMS\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 0\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:WhEp\r\n"
    "a=ice-pwd:q0w9e8r7t6y5u4i3o2p1a0sd\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=recvonly\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=rtcp-fb:111 transport-cc\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:63 red/48000/2\r\n"
    "a=fmtp:63 111/111\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:WhEp\r\n"
    "a=ice-pwd:q0w9e8r7t6y5u4i3o2p1a0sd\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99\r\n"
    "a=setup:actpass\r\n"
    "a=mid:1\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=recvonly\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 transport-cc\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=rtpmap:97 rtx/90000\r\n"
    "a=fmtp:97 apt=96\r\n"
    "a=rtpmap:102 H264/90000\r\n"
    "a=rtcp-fb:102 nack pli\r\n"
    "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
    "a=rtpmap:103 rtx/90000\r\n"
    "a=fmtp:103 apt=102\r\n";

constexpr std::string_view kFirefoxOffer =
    "v=0\r\n"
    "o=mozilla...THIS_IS_SDPARTA-128.0 5312347364758264785 0 IN IP4 0.0.0.0\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=fingerprint:sha-256 "
    "6B:8B:5D:EA:59:04:20:23:29:C8:87:1C:CC:87:32:BE:DD:8C:66:A5:8E:50:55:EA:8C:D3:B6:5C:09:5E:E6:BC\r\n"
    "a=group:BUNDLE 0 1 2\r\n"
    "a=ice-options:trickle\r\n"
    "a=msid-semantic:WMS *\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 109 9 0 8 101\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=sendrecv\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:csrc-audio-level\r\n"
    "a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=ice-pwd:4e1a9c7d2b8f3e6a0d5c9b1e7f2a4c8d\r\n"
    "a=ice-ufrag:f1e2d3c4\r\n"
    "a=mid:0\r\n"
    "a=msid:{7d1f1c9a-7a3f-4a43-9c0e-6b7e3f2b1a90} {a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d}\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:109 opus/48000/2\r\n"
    "a=rtpmap:9 G722/8000/1\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=setup:actpass\r\n"
    "a=ssrc:3510613221 cname:{5f3c2e1d-0b9a-4c8d-9e7f-6a5b4c3d2e1f}\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 120 124 121 125 126 127 97 98 123 122 119\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=sendrecv\r\n"
    "a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:5 urn:ietf:params:rtp-hdrext:toffset\r\n"
    "a=extmap:6/recvonly http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n"
    "a=extmap:7 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=fmtp:126 profile-level-id=42e01f;level-asymmetry-allowed=1;packetization-mode=1\r\n"
    "a=fmtp:97 profile-level-id=42e01f;level-asymmetry-allowed=1\r\n"
    "a=fmtp:120 max-fs=12288;max-fr=60\r\n"
    "a=fmtp:124 apt=120\r\n"
    "a=fmtp:121 max-fs=12288;max-fr=60\r\n"
    "a=fmtp:125 apt=121\r\n"
    "a=fmtp:127 apt=126\r\n"
    "a=fmtp:98 apt=97\r\n"
    "a=fmtp:119 apt=122\r\n"
    "a=ice-pwd:4e1a9c7d2b8f3e6a0d5c9b1e7f2a4c8d\r\n"
    "a=ice-ufrag:f1e2d3c4\r\n"
    "a=mid:1\r\n"
    "a=msid:{7d1f1c9a-7a3f-4a43-9c0e-6b7e3f2b1a90} {b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e}\r\n"
    "a=rtcp-fb:120 nack\r\n"
    "a=rtcp-fb:120 nack pli\r\n"
    "a=rtcp-fb:120 ccm fir\r\n"
    "a=rtcp-fb:120 goog-remb\r\n"
    "a=rtcp-fb:120 transport-cc\r\n"
    "a=rtcp-fb:121 nack\r\n"
    "a=rtcp-fb:121 nack pli\r\n"
    "a=rtcp-fb:121 ccm fir\r\n"
    "a=rtcp-fb:121 goog-remb\r\n"
    "a=rtcp-fb:121 transport-cc\r\n"
    "a=rtcp-fb:126 nack\r\n"
    "a=rtcp-fb:126 nack pli\r\n"
    "a=rtcp-fb:126 ccm fir\r\n"
    "a=rtcp-fb:126 goog-remb\r\n"
    "a=rtcp-fb:126 transport-cc\r\n"
    "a=rtcp-fb:97 nack\r\n"
    "a=rtcp-fb:97 nack pli\r\n"
    "a=rtcp-fb:97 ccm fir\r\n"
    "a=rtcp-fb:97 goog-remb\r\n"
    "a=rtcp-fb:97 transport-cc\r\n"
    "a=rtcp-fb:123 nack\r\n"
    "a=rtcp-fb:123 nack pli\r\n"
    "a=rtcp-fb:123 ccm fir\r\n"
    "a=rtcp-fb:123 goog-remb\r\n"
    "a=rtcp-fb:123 transport-cc\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtpmap:120 VP8/90000\r\n"
    "a=rtpmap:124 rtx/90000\r\n"
    "a=rtpmap:121 VP9/90000\r\n"
    "a=rtpmap:125 rtx/90000\r\n"
    "a=rtpmap:126 H264/90000\r\n"
    "a=rtpmap:127 rtx/90000\r\n"
    "a=rtpmap:97 H264/90000\r\n"
    "a=rtpmap:98 rtx/90000\r\n"
    "a=rtpmap:123 ulpfec/90000\r\n"
    "a=rtpmap:122 red/90000\r\n"
    "a=rtpmap:119 rtx/90000\r\n"
    "a=setup:actpass\r\n"
    "a=ssrc:2672211467 cname:{5f3c2e1d-0b9a-4c8d-9e7f-6a5b4c3d2e1f}\r\n"
    "a=ssrc:1873464598 cname:{5f3c2e1d-0b9a-4c8d-9e7f-6a5b4c3d2e1f}\r\n"
    "a=ssrc-group:FID 2672211467 1873464598\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=sendrecv\r\n"
    "a=ice-pwd:4e1a9c7d2b8f3e6a0d5c9b1e7f2a4c8d\r\n"
    "a=ice-ufrag:f1e2d3c4\r\n"
    "a=mid:2\r\n"
    "a=setup:actpass\r\n"
    "a=sctp-port:5000\r\n"
    "a=max-message-size:1073741823\r\n";

constexpr std::string_view kServerFingerprint =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
constexpr std::string_view kServerFingerprintSdp =
    "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";

AnswerParams whip_params() {
  AnswerParams p;
  p.kind = SessionKind::kPublish;
  p.ice_ufrag = "srvU";
  p.ice_pwd = "server-password-0123456789";
  p.fingerprint_sha256 = std::string(kServerFingerprint);
  p.candidates = {
      {"192.0.2.10", 40000, true, 0}, {"2001:db8::10", 40000, true, 0}, {"192.0.2.10", 443, false, 0}};
  p.session_id = 42;
  return p;
}

SessionDescription parse_ok(std::string_view text) {
  auto r = parse_sdp(text);
  EXPECT_TRUE(r) << (r ? "" : std::to_string(r.error().line) + ": " + r.error().reason);
  return r ? *r : SessionDescription{};
}

std::vector<uint8_t> pts(const NegotiatedMedia& m) {
  std::vector<uint8_t> out;
  for (const auto& c : m.codecs)
    out.push_back(c.pt);
  return out;
}

size_t count(std::string_view hay, std::string_view needle) {
  size_t n = 0;
  for (size_t at = hay.find(needle); at != std::string_view::npos; at = hay.find(needle, at + 1))
    ++n;
  return n;
}

// ---- accessors
// ----------------------------------------------------------------------------------------------

TEST(WebRtcSdp, ChromeOfferAccessors) {
  const auto s = parse_ok(kChromeWhipOffer);
  ASSERT_EQ(s.media.size(), 2u);
  const auto& a = s.media[0];
  const auto& v = s.media[1];
  EXPECT_EQ(mid(a), "0");
  EXPECT_EQ(direction(s, a), SdpDirection::kSendOnly);
  EXPECT_EQ(ice_ufrag(s, a), "Hx3k");
  EXPECT_EQ(ice_pwd(s, a), "8cVgq1Wm9r2OZpTqk4bXyLzA");
  EXPECT_EQ(ice_options(s, a), (std::vector<std::string>{"trickle"}));
  auto fp = fingerprint(s, a);
  ASSERT_TRUE(fp);
  EXPECT_EQ(fp->algorithm, "sha-256");
  ASSERT_EQ(fp->bytes.size(), 32u);
  EXPECT_EQ(fp->bytes[0], 0xD2);
  EXPECT_EQ(fp->bytes[31], 0x0F);
  EXPECT_EQ(fp->hex.substr(0, 8), "D2:FA:0E");
  EXPECT_EQ(setup(s, a), SetupRole::kActPass);
  EXPECT_TRUE(rtcp_mux(a));
  EXPECT_TRUE(rtcp_rsize(a));

  auto maps = rtpmaps(a);
  ASSERT_EQ(maps.size(), 8u);
  EXPECT_EQ(maps[0].pt, 111);
  EXPECT_EQ(maps[0].name, "opus");
  EXPECT_EQ(maps[0].clock_rate, 48000u);
  EXPECT_EQ(maps[0].channels, 2);
  EXPECT_EQ(maps[2].name, "G722");
  EXPECT_EQ(maps[2].channels, 0);
  auto f = fmtp(a, 111);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->params, "minptime=10;useinbandfec=1");
  EXPECT_EQ(f->get("useinbandfec"), "1");
  EXPECT_FALSE(f->get("stereo"));

  auto h264 = fmtp(v, 106);
  ASSERT_TRUE(h264);
  EXPECT_EQ(h264->get("profile-level-id"), "42e01f");
  EXPECT_EQ(h264->get("packetization-mode"), "1");
  EXPECT_EQ(fmtp(v, 97)->get("apt"), "96");
  EXPECT_EQ(rtpmap(v, 116)->name, "ulpfec");
  EXPECT_FALSE(rtpmap(v, 17));

  auto fbs = rtcp_fbs(v);
  ASSERT_GE(fbs.size(), 5u);
  EXPECT_EQ(fbs[2].pt, 96);
  EXPECT_EQ(fbs[2].type, "ccm");
  EXPECT_EQ(fbs[2].param, "fir");

  auto ext = extmaps(s, v);
  ASSERT_EQ(ext.size(), 8u);
  EXPECT_EQ(ext[0].id, 14);
  EXPECT_EQ(ext[0].uri, "urn:ietf:params:rtp-hdrext:toffset");
  EXPECT_EQ(ext[6].id, 10);
  EXPECT_EQ(ext[6].uri, kExtRid);

  auto groups_v = ssrc_groups(v);
  ASSERT_EQ(groups_v.size(), 1u);
  EXPECT_EQ(groups_v[0].semantics, "FID");
  EXPECT_EQ(groups_v[0].ssrcs, (std::vector<uint32_t>{2001, 2002}));
  auto ss = ssrcs(v);
  ASSERT_EQ(ss.size(), 4u);
  EXPECT_EQ(ss[1].ssrc, 2001u);
  EXPECT_EQ(ss[1].attribute, "msid");
  EXPECT_EQ(ss[1].value, "5d6c2f6e-stream 4e5f6a7b-video");

  auto ms = msids(v);
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].stream_id, "5d6c2f6e-stream");
  EXPECT_EQ(ms[0].track_id, "4e5f6a7b-video");

  auto b = bundle_group(s);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->mids, (std::vector<std::string>{"0", "1"}));
}

TEST(WebRtcSdp, FirefoxSessionLevelFallbacksAndExtmapDirection) {
  const auto s = parse_ok(kFirefoxOffer);
  ASSERT_EQ(s.media.size(), 3u);
  auto fp = fingerprint(s, s.media[0]);  // only at session level
  ASSERT_TRUE(fp);
  EXPECT_EQ(fp->bytes[0], 0x6B);
  EXPECT_EQ(ice_options(s, s.media[2]), (std::vector<std::string>{"trickle"}));
  EXPECT_EQ(direction(s, s.media[1]), SdpDirection::kSendRecv);
  auto ext = extmaps(s, s.media[0]);
  ASSERT_EQ(ext.size(), 3u);
  EXPECT_EQ(ext[1].id, 2);
  EXPECT_EQ(ext[1].direction, SdpDirection::kRecvOnly);
  EXPECT_FALSE(ext[0].direction);
  EXPECT_EQ(rtpmap(s.media[0], 9)->channels, 1);
}

TEST(WebRtcSdp, RidAndSimulcast) {
  const auto s = parse_ok(kChromeSimulcastOffer);
  auto r = rids(s.media[0]);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].id, "q");
  EXPECT_EQ(r[0].direction, RidDirection::kSend);
  EXPECT_EQ(r[2].pts, (std::vector<uint8_t>{96, 35}));
  EXPECT_EQ(r[2].params, "max-width=1280;max-height=720");
  auto sc = simulcast(s.media[0]);
  ASSERT_TRUE(sc);
  ASSERT_EQ(sc->send.size(), 3u);
  EXPECT_TRUE(sc->recv.empty());
  EXPECT_EQ(sc->send[0][0].rid, "q");
  EXPECT_FALSE(sc->send[0][0].paused);
  EXPECT_EQ(sc->send[2][0].rid, "f");
  EXPECT_TRUE(sc->send[2][0].paused);

  auto both = parse_simulcast("recv 1,2;3 send rid=a");
  ASSERT_TRUE(both);
  ASSERT_EQ(both->recv.size(), 2u);
  EXPECT_EQ(both->recv[0].size(), 2u);
  EXPECT_EQ(both->recv[0][1].rid, "2");
  EXPECT_EQ(both->send[0][0].rid, "a");
  EXPECT_FALSE(parse_simulcast("send"));
  EXPECT_FALSE(parse_simulcast("send a send b"));
  EXPECT_FALSE(parse_simulcast("sideways a"));
  EXPECT_FALSE(parse_simulcast("send a;;b"));
  EXPECT_FALSE(parse_rid("x both"));
  EXPECT_FALSE(parse_rid("bad/id send"));
  EXPECT_FALSE(parse_rid("a send pt=300"));
}

TEST(WebRtcSdp, CandidatesAndSmallParsers) {
  auto c = parse_candidate(
      "842163049 1 udp 1677729535 203.0.113.7 61234 typ srflx raddr 10.0.0.5 rport 61234 "
      "generation 0 network-cost 999");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->foundation, "842163049");
  EXPECT_EQ(c->component, 1);
  EXPECT_EQ(c->transport, "udp");
  EXPECT_EQ(c->priority, 1677729535u);
  EXPECT_EQ(c->address, "203.0.113.7");
  EXPECT_EQ(c->port, 61234);
  EXPECT_EQ(c->type, "srflx");
  EXPECT_EQ(c->related_address, "10.0.0.5");
  EXPECT_EQ(c->related_port, 61234);
  auto t = parse_candidate("1 1 TCP 1518280447 192.0.2.1 9 typ host tcptype active");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->transport, "tcp");
  EXPECT_EQ(t->tcp_type, "active");
  EXPECT_EQ(format_candidate(*t), "1 1 tcp 1518280447 192.0.2.1 9 typ host tcptype active");
  EXPECT_FALSE(parse_candidate("1 1 udp 5 192.0.2.1 9 type host"));
  EXPECT_FALSE(parse_candidate("1 1 udp 5 192.0.2.1 99999 typ host"));

  EXPECT_FALSE(parse_rtpmap("96 VP8"));
  EXPECT_FALSE(parse_rtpmap("200 VP8/90000"));
  EXPECT_FALSE(parse_rtpmap("96 VP8/0"));
  EXPECT_FALSE(parse_rtpmap("x VP8/90000"));
  EXPECT_FALSE(parse_extmap("0 urn:x"));
  EXPECT_FALSE(parse_extmap("1/sideways urn:x"));
  EXPECT_FALSE(parse_rtcp_fb("96"));
  auto star = parse_rtcp_fb("* nack");
  ASSERT_TRUE(star);
  EXPECT_FALSE(star->pt);
  EXPECT_FALSE(parse_fingerprint_hex("AB:C"));
  EXPECT_FALSE(parse_fingerprint_hex("zz"));
  EXPECT_EQ(format_fingerprint_hex({0x0a, 0xff}), "0A:FF");
}

// ---- negotiation
// ----------------------------------------------------------------------------------------------

TEST(Negotiator, ChromeWhipOfferGivesARecvonlyBundledAnswer) {
  auto r = negotiate_answer(kChromeWhipOffer, ServerMediaCaps::defaults(), whip_params());
  ASSERT_TRUE(r) << r.error().http_status << " " << r.error().reason;
  const Answer& ans = *r;
  const auto s = parse_ok(ans.sdp);

  EXPECT_TRUE(s.has("ice-lite"));
  EXPECT_TRUE(s.has("extmap-allow-mixed"));
  EXPECT_EQ(bundle_group(s)->mids, (std::vector<std::string>{"0", "1"}));
  ASSERT_EQ(s.media.size(), 2u);
  for (const auto& m : s.media) {
    EXPECT_EQ(m.port, 9);
    EXPECT_EQ(m.proto, "UDP/TLS/RTP/SAVPF");
    EXPECT_EQ(direction(s, m), SdpDirection::kRecvOnly);
    EXPECT_EQ(setup(s, m), SetupRole::kPassive);
    EXPECT_EQ(ice_ufrag(s, m), "srvU");
    EXPECT_EQ(ice_pwd(s, m), "server-password-0123456789");
    auto fp = fingerprint(s, m);
    ASSERT_TRUE(fp);
    EXPECT_EQ(fp->algorithm, "sha-256");
    EXPECT_EQ(fp->hex, kServerFingerprintSdp);
    EXPECT_TRUE(rtcp_mux(m));
    EXPECT_TRUE(rtcp_rsize(m));
  }
  EXPECT_EQ(mid(s.media[0]), "0");
  EXPECT_EQ(mid(s.media[1]), "1");

  // Audio: opus only, its PT kept, red/G722/PCMU/CN/telephone-event dropped.
  EXPECT_EQ(s.media[0].formats, (std::vector<std::string>{"111"}));
  EXPECT_EQ(s.media[0].values("rtpmap"), (std::vector<std::string_view>{"111 opus/48000/2"}));
  EXPECT_EQ(s.media[0].values("fmtp"), (std::vector<std::string_view>{"111 minptime=10;useinbandfec=1"}));
  EXPECT_EQ(s.media[0].values("rtcp-fb"), (std::vector<std::string_view>{"111 transport-cc"}));
  // Video: VP8, VP9 profile 0, AV1, H264 42001f/42e01f/4d001f with packetization-mode=1, each with its RTX,
  // in the offer's order; VP9 profile 2, H264 mode 0, f4001f, 64001f, red, ulpfec and red's RTX dropped.
  EXPECT_EQ(s.media[1].formats, (std::vector<std::string>{"96", "97", "98", "99", "45", "46", "102", "103",
                                                          "106", "107", "127", "125"}));
  EXPECT_EQ(fmtp(s.media[1], 98)->params, "profile-id=0");
  EXPECT_EQ(fmtp(s.media[1], 99)->params, "apt=98");
  EXPECT_EQ(fmtp(s.media[1], 106)->params,
            "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
  EXPECT_EQ(rtpmap(s.media[1], 125)->name, "rtx");
  EXPECT_EQ(count(ans.sdp, "red/"), 0u);
  EXPECT_EQ(count(ans.sdp, "ulpfec"), 0u);
  EXPECT_EQ(count(ans.sdp, "profile-id=2"), 0u);
  EXPECT_EQ(count(ans.sdp, "packetization-mode=0"), 0u);
  // rtcp-fb: only the ones we support and only for kept codecs, never for RTX.
  EXPECT_EQ(count(ans.sdp, "a=rtcp-fb:96 "), 5u);
  EXPECT_EQ(count(ans.sdp, "a=rtcp-fb:97 "), 0u);
  EXPECT_EQ(count(ans.sdp, "a=rtcp-fb:127 "), 2u);
  // Extensions: understood ones with the offer's ids; abs-send-time (transport-cc estimates instead),
  // toffset, video-orientation and playout-delay dropped.
  EXPECT_EQ(s.media[1].values("extmap"),
            (std::vector<std::string_view>{
                "3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
                "4 urn:ietf:params:rtp-hdrext:sdes:mid", "10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
                "11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"}));
  // Candidates only in the first section.
  EXPECT_EQ(s.media[0].values("candidate"),
            (std::vector<std::string_view>{"1 1 udp 2130706431 192.0.2.10 40000 typ host",
                                           "2 1 udp 2130706175 2001:db8::10 40000 typ host",
                                           "3 1 tcp 2122317311 192.0.2.10 443 typ host tcptype passive"}));
  EXPECT_TRUE(s.media[0].has("end-of-candidates"));
  EXPECT_FALSE(s.media[1].has("candidate"));
  EXPECT_FALSE(s.media[1].has("end-of-candidates"));
  // We receive: no ssrc or msid of ours.
  EXPECT_EQ(count(ans.sdp, "a=ssrc"), 0u);
  EXPECT_EQ(count(ans.sdp, "a=msid"), 0u);

  // Structured result.
  EXPECT_EQ(ans.remote_ice_ufrag, "Hx3k");
  EXPECT_EQ(ans.remote_ice_pwd, "8cVgq1Wm9r2OZpTqk4bXyLzA");
  EXPECT_EQ(ans.remote_fingerprint.bytes.size(), 32u);
  EXPECT_EQ(ans.remote_setup, SetupRole::kActPass);
  ASSERT_EQ(ans.media.size(), 2u);
  const auto& am = ans.media[0];
  EXPECT_EQ(am.mid, "0");
  EXPECT_EQ(am.kind, media::MediaKind::kAudio);
  EXPECT_EQ(am.direction, SdpDirection::kRecvOnly);
  ASSERT_EQ(am.codecs.size(), 1u);
  EXPECT_EQ(am.codecs[0].codec, media::Codec::kOpus);
  EXPECT_EQ(am.codecs[0].channels, 2);
  EXPECT_FALSE(am.codecs[0].rtx_pt);
  EXPECT_EQ(am.extensions.audio_level, 1);
  EXPECT_EQ(count(ans.sdp, "abs-send-time"), 0u);
  EXPECT_EQ(am.extensions.transport_cc, 3);
  EXPECT_EQ(am.extensions.mid, 4);
  EXPECT_EQ(am.extensions.rid, 0);
  EXPECT_TRUE(am.feedback.transport_cc);
  EXPECT_FALSE(am.feedback.nack);
  EXPECT_EQ(am.remote_ssrcs, (std::vector<uint32_t>{1001}));
  ASSERT_TRUE(am.remote_msid);
  EXPECT_EQ(am.remote_msid->track_id, "0a1b2c3d-audio");

  const auto& vm = ans.media[1];
  EXPECT_EQ(vm.kind, media::MediaKind::kVideo);
  EXPECT_EQ(pts(vm), (std::vector<uint8_t>{96, 98, 45, 102, 106, 127}));
  EXPECT_EQ(vm.codecs[0].codec, media::Codec::kVP8);
  EXPECT_EQ(vm.codecs[0].rtx_pt, 97);
  EXPECT_EQ(vm.codecs[2].codec, media::Codec::kAV1);
  EXPECT_EQ(vm.codecs[2].rtx_pt, 46);
  EXPECT_EQ(vm.codecs[5].codec, media::Codec::kH264);
  EXPECT_EQ(vm.codecs[5].rtx_pt, 125);
  EXPECT_EQ(vm.extensions.rid, 10);
  EXPECT_EQ(vm.extensions.repaired_rid, 11);
  EXPECT_EQ(vm.extensions.audio_level, 0);
  EXPECT_TRUE(vm.feedback.nack && vm.feedback.pli && vm.feedback.fir && vm.feedback.remb &&
              vm.feedback.transport_cc);
  EXPECT_EQ(vm.remote_ssrcs, (std::vector<uint32_t>{2001, 2002}));
  EXPECT_EQ(vm.remote_rtx_pairs, (std::vector<std::pair<uint32_t, uint32_t>>{{2001, 2002}}));
  EXPECT_TRUE(vm.remote_rids.empty());
  EXPECT_TRUE(vm.rtcp_rsize);
}

TEST(Negotiator, PreferredCodecFilters) {
  auto p = whip_params();
  p.preferred_video = media::Codec::kH264;
  auto r = negotiate_answer(kChromeWhipOffer, ServerMediaCaps::defaults(), p);
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(pts(r->media[1]), (std::vector<uint8_t>{102, 106, 127}));
  const auto s = parse_ok(r->sdp);
  EXPECT_EQ(s.media[1].formats, (std::vector<std::string>{"102", "103", "106", "107", "127", "125"}));
  EXPECT_EQ(count(r->sdp, "VP8"), 0u);

  // Force a codec the offer lacks: that section is rejected; audio still works.
  p.preferred_video = media::Codec::kAV1;
  auto only_vp8 = std::string(kChromeWhipOffer);
  only_vp8.replace(only_vp8.find("a=rtpmap:45 AV1/90000"), 21, "a=rtpmap:45 XYZ/90000");
  r = negotiate_answer(only_vp8, ServerMediaCaps::defaults(), p);
  ASSERT_TRUE(r) << r.error().reason;
  ASSERT_EQ(r->media.size(), 1u);
  EXPECT_EQ(r->media[0].mid, "0");
  const auto s2 = parse_ok(r->sdp);
  EXPECT_EQ(s2.media[1].port, 0);
  EXPECT_EQ(mid(s2.media[1]), "1");
  EXPECT_EQ(bundle_group(s2)->mids, (std::vector<std::string>{"0"}));
}

TEST(Negotiator, SimulcastOfferIsAnsweredWithRecvRids) {
  auto r = negotiate_answer(kChromeSimulcastOffer, ServerMediaCaps::defaults(), whip_params());
  ASSERT_TRUE(r) << r.error().reason;
  const auto s = parse_ok(r->sdp);
  const auto& m = s.media[0];
  EXPECT_EQ(m.values("rid"), (std::vector<std::string_view>{"q recv", "h recv", "f recv"}));
  EXPECT_EQ(m.value("simulcast"), "recv q;h;~f");
  auto sc = simulcast(m);
  ASSERT_TRUE(sc);
  EXPECT_EQ(sc->recv.size(), 3u);
  EXPECT_EQ(m.formats, (std::vector<std::string>{"96", "97", "35", "36"}));
  EXPECT_EQ(r->media[0].remote_rids, (std::vector<std::string>{"q", "h", "f"}));
  EXPECT_EQ(r->media[0].extensions.rid, 10);
  EXPECT_TRUE(r->media[0].remote_ssrcs.empty());
}

TEST(Negotiator, WhepOfferGivesSendonlyWithOurSsrcs) {
  auto p = whip_params();
  p.kind = SessionKind::kSubscribe;
  p.candidates = {{"203.0.113.5", 50000, true, 0}};
  p.send_streams = {{111111, 0, "atrium", "room-peer", "audio-track"},
                    {222222, 333333, "atrium", "room-peer", "video-track"}};
  auto r = negotiate_answer(kWhepOffer, ServerMediaCaps::defaults(), p);
  ASSERT_TRUE(r) << r.error().reason;
  // The whole answer, as text: every line is asserted.
  EXPECT_EQ(r->sdp,
            "v=0\r\n"
            "o=- 42 2 IN IP4 127.0.0.1\r\n"
            "s=-\r\n"
            "t=0 0\r\n"
            "a=group:BUNDLE 0 1\r\n"
            "a=ice-lite\r\n"
            "a=extmap-allow-mixed\r\n"
            "a=msid-semantic: WMS *\r\n"
            "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
            "c=IN IP4 0.0.0.0\r\n"
            "a=mid:0\r\n"
            "a=ice-ufrag:srvU\r\n"
            "a=ice-pwd:server-password-0123456789\r\n"
            "a=fingerprint:sha-256 " +
                std::string(kServerFingerprintSdp) +
                "\r\n"
                "a=setup:passive\r\n"
                "a=sendonly\r\n"
                "a=rtcp-mux\r\n"
                "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
                "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
                "a=rtpmap:111 opus/48000/2\r\n"
                "a=rtcp-fb:111 transport-cc\r\n"
                "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
                "a=msid:room-peer audio-track\r\n"
                "a=ssrc:111111 cname:atrium\r\n"
                "a=ssrc:111111 msid:room-peer audio-track\r\n"
                "a=candidate:1 1 udp 2130706431 203.0.113.5 50000 typ host\r\n"
                "a=end-of-candidates\r\n"
                "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103\r\n"
                "c=IN IP4 0.0.0.0\r\n"
                "a=mid:1\r\n"
                "a=ice-ufrag:srvU\r\n"
                "a=ice-pwd:server-password-0123456789\r\n"
                "a=fingerprint:sha-256 " +
                std::string(kServerFingerprintSdp) +
                "\r\n"
                "a=setup:passive\r\n"
                "a=sendonly\r\n"
                "a=rtcp-mux\r\n"
                "a=rtcp-rsize\r\n"
                "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
                "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
                "a=rtpmap:96 VP8/90000\r\n"
                "a=rtcp-fb:96 transport-cc\r\n"
                "a=rtcp-fb:96 nack\r\n"
                "a=rtcp-fb:96 nack pli\r\n"
                "a=rtpmap:97 rtx/90000\r\n"
                "a=fmtp:97 apt=96\r\n"
                "a=rtpmap:102 H264/90000\r\n"
                "a=rtcp-fb:102 nack pli\r\n"
                "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
                "a=rtpmap:103 rtx/90000\r\n"
                "a=fmtp:103 apt=102\r\n"
                "a=msid:room-peer video-track\r\n"
                "a=ssrc-group:FID 222222 333333\r\n"
                "a=ssrc:222222 cname:atrium\r\n"
                "a=ssrc:222222 msid:room-peer video-track\r\n"
                "a=ssrc:333333 cname:atrium\r\n"
                "a=ssrc:333333 msid:room-peer video-track\r\n");
  ASSERT_EQ(r->media.size(), 2u);
  EXPECT_EQ(r->media[0].direction, SdpDirection::kSendOnly);
  ASSERT_TRUE(r->media[1].send);
  EXPECT_EQ(r->media[1].send->rtx_ssrc, 333333u);
  EXPECT_FALSE(r->media[1].feedback.remb);
  EXPECT_TRUE(r->media[1].feedback.pli);
}

TEST(Negotiator, FirefoxSendrecvInAWhipSessionRejectsTheDataChannel) {
  auto r = negotiate_answer(kFirefoxOffer, ServerMediaCaps::defaults(), whip_params());
  ASSERT_TRUE(r) << r.error().reason;
  const auto s = parse_ok(r->sdp);
  ASSERT_EQ(s.media.size(), 3u);
  EXPECT_EQ(direction(s, s.media[0]), SdpDirection::kRecvOnly);
  EXPECT_EQ(direction(s, s.media[1]), SdpDirection::kRecvOnly);
  EXPECT_EQ(s.media[0].formats, (std::vector<std::string>{"109"}));
  // VP8 (rtx 124), VP9 without profile-id (rtx 125), H264 pm=1 (rtx 127); H264 without packetization-mode,
  // ulpfec, red and red's rtx dropped.
  EXPECT_EQ(s.media[1].formats, (std::vector<std::string>{"120", "124", "121", "125", "126", "127"}));
  EXPECT_FALSE(rtcp_rsize(s.media[0]));
  // The data channel: rejected with port 0, outside the bundle.
  EXPECT_EQ(s.media[2].media, "application");
  EXPECT_EQ(s.media[2].port, 0);
  EXPECT_EQ(s.media[2].formats, (std::vector<std::string>{"webrtc-datachannel"}));
  EXPECT_EQ(mid(s.media[2]), "2");
  EXPECT_EQ(bundle_group(s)->mids, (std::vector<std::string>{"0", "1"}));
  // The offer's fingerprint is session-level only; the extension with a direction is not ours.
  EXPECT_EQ(r->remote_fingerprint.bytes[0], 0x6B);
  EXPECT_EQ(r->media[0].extensions.audio_level, 1);
  EXPECT_EQ(r->media[0].extensions.mid, 3);
  EXPECT_EQ(r->media[1].remote_rtx_pairs,
            (std::vector<std::pair<uint32_t, uint32_t>>{{2672211467u, 1873464598u}}));
  EXPECT_EQ(r->media[1].codecs[1].codec, media::Codec::kVP9);
}

TEST(Negotiator, PeerSessionKeepsSendrecv) {
  auto p = whip_params();
  p.kind = SessionKind::kPeer;
  auto r = negotiate_answer(kFirefoxOffer, ServerMediaCaps::defaults(), p);
  ASSERT_TRUE(r) << r.error().reason;
  EXPECT_EQ(r->media[0].direction, SdpDirection::kSendRecv);
  EXPECT_EQ(direction(parse_ok(r->sdp), parse_ok(r->sdp).media[1]), SdpDirection::kSendRecv);
}

TEST(Negotiator, OnlyUnsupportedCodecsIs406WithASentence) {
  const std::string offer =
      "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE a v\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 0 9\r\nc=IN IP4 0.0.0.0\r\na=mid:a\r\na=sendonly\r\na=rtcp-mux\r\n"
      "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\na=setup:actpass\r\n"
      "a=fingerprint:sha-256 "
      "D2:FA:0E:C3:22:59:5E:14:95:69:92:3D:13:B4:84:24:2C:C2:A2:C0:3E:FD:34:8E:5E:EA:6F:AF:"
      "52:CE:E6:0F\r\n"
      "a=rtpmap:0 PCMU/8000\r\na=rtpmap:9 G722/8000\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 100 101\r\nc=IN IP4 0.0.0.0\r\na=mid:v\r\na=sendonly\r\na=rtcp-mux\r\n"
      "a=rtpmap:100 H265/90000\r\na=rtpmap:101 H264/90000\r\na=fmtp:101 "
      "packetization-mode=1;profile-level-id="
      "f4001f\r\n";
  auto r = negotiate_answer(offer, ServerMediaCaps::defaults(), whip_params());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().http_status, 406);
  EXPECT_EQ(
      r.error().reason,
      "None of the offered codecs can be served (audio offers PCMU/8000, G722/8000; video offers H265/90000, "
      "H264/90000 (packetization-mode=1;profile-level-id=f4001f)); this server supports opus/48000/2, VP8, "
      "VP9 profile 0, H264 packetization-mode=1 (42e01f, 42001f, 4d001f, 640c1f) and AV1 profile 0.");
}

TEST(Negotiator, GarbageIs400WithTheLineNumber) {
  auto r = negotiate_answer(
      "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video nine UDP/TLS/RTP/SAVPF 96\r\n",
      ServerMediaCaps::defaults(), whip_params());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().http_status, 400);
  EXPECT_EQ(r.error().reason, "The offer is not valid SDP (line 5): m= line has a bad port.");
  r = negotiate_answer("<html>hello</html>", ServerMediaCaps::defaults(), whip_params());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().http_status, 400);
  EXPECT_EQ(r.error().reason,
            "The offer is not valid SDP (line 1): expected a line of the form <letter>=<value>.");
}

std::string without(std::string_view text, std::string_view line) {
  std::string s(text);
  for (size_t at = s.find(line); at != std::string::npos; at = s.find(line))
    s.erase(at, line.size());
  return s;
}

std::string replaced(std::string_view text, std::string_view from, std::string_view to) {
  std::string s(text);
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

TEST(Negotiator, RequirementsAndWrongWays) {
  const auto caps = ServerMediaCaps::defaults();
  const auto p = whip_params();

  auto r = negotiate_answer(without(kChromeWhipOffer, "a=rtcp-mux\r\n"), caps, p);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().http_status, 400);
  EXPECT_EQ(
      r.error().reason,
      "The offer's m-section 0 (audio, mid 0, line 8) has no a=rtcp-mux; this server requires rtcp-mux.");

  r = negotiate_answer(without(kChromeWhipOffer, "a=group:BUNDLE 0 1\r\n"), caps, p);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().http_status, 400);
  EXPECT_EQ(r.error().reason, "The offer has no a=group:BUNDLE line; this server requires BUNDLE.");

  r = negotiate_answer(without(kChromeWhipOffer, "a=mid:1\r\n"), caps, p);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().http_status, 400);

  r = negotiate_answer(replaced(kChromeWhipOffer, "a=mid:1\r\n", "a=mid:0\r\n"), caps, p);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "The offer uses mid 0 twice.");

  r = negotiate_answer(without(kChromeWhipOffer, "a=ice-pwd:8cVgq1Wm9r2OZpTqk4bXyLzA\r\n"), caps, p);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().http_status, 400);

  r = negotiate_answer(replaced(kChromeWhipOffer, "a=fingerprint:sha-256 D2", "a=fingerprint:sha-256 Z2"),
                       caps, p);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().http_status, 400);

  r = negotiate_answer(replaced(kChromeWhipOffer, "a=setup:actpass", "a=setup:passive"), caps, p);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().http_status, 422);

  r = negotiate_answer(replaced(kChromeWhipOffer, "a=setup:actpass", "a=setup:active"), caps, p);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->remote_setup, SetupRole::kActive);

  // A WHIP session offered recvonly sections: nothing to receive.
  r = negotiate_answer(kWhepOffer, caps, p);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().http_status, 422);
  EXPECT_EQ(r.error().reason, "A WHIP offer must send media, but every section of this one only receives.");
  // And the other way round.
  auto sub = p;
  sub.kind = SessionKind::kSubscribe;
  r = negotiate_answer(kChromeWhipOffer, caps, sub);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().http_status, 422);

  // Only a data channel.
  const std::string dc =
      "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
      "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\na=sctp-port:5000\r\n";
  r = negotiate_answer(dc, caps, p);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().http_status, 422);

  // Bad server parameters are refused rather than written into an answer.
  auto bad = p;
  bad.fingerprint_sha256 = "00:11";
  r = negotiate_answer(kChromeWhipOffer, caps, bad);
  ASSERT_FALSE(r);
}

TEST(Negotiator, SectionOutsideTheBundleOrOfferRejectedIsPortZero) {
  const auto caps = ServerMediaCaps::defaults();
  auto r = negotiate_answer(replaced(kChromeWhipOffer, "a=group:BUNDLE 0 1", "a=group:BUNDLE 0"), caps,
                            whip_params());
  ASSERT_TRUE(r) << r.error().reason;
  ASSERT_EQ(r->media.size(), 1u);
  auto s = parse_ok(r->sdp);
  EXPECT_EQ(s.media[1].port, 0);
  EXPECT_EQ(s.media[1].formats, (std::vector<std::string>{"96"}));

  r = negotiate_answer(replaced(kChromeWhipOffer, "m=audio 9 ", "m=audio 0 "), caps, whip_params());
  ASSERT_TRUE(r) << r.error().reason;
  s = parse_ok(r->sdp);
  EXPECT_EQ(s.media[0].port, 0);
  EXPECT_EQ(r->media.size(), 1u);
  // Candidates move to the first accepted section.
  EXPECT_TRUE(s.media[1].has("end-of-candidates"));
  EXPECT_FALSE(s.media[0].has("candidate"));
}

TEST(Negotiator, AnswerIsStableUnderReparse) {
  // The answer, parsed and serialized again, is the same text.
  auto r = negotiate_answer(kFirefoxOffer, ServerMediaCaps::defaults(), whip_params());
  ASSERT_TRUE(r);
  EXPECT_EQ(serialize_sdp(parse_ok(r->sdp)), r->sdp);
  // The offers themselves round-trip exactly too.
  for (auto offer : {kChromeWhipOffer, kChromeSimulcastOffer, kWhepOffer, kFirefoxOffer}) {
    EXPECT_EQ(serialize_sdp(parse_ok(offer)), offer);
  }
}

// A BUNDLEd recvonly offer of `audio` audio sections then `video` video sections.
std::string many_sections_offer(size_t audio, size_t video) {
  std::string sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE";
  for (size_t i = 0; i < audio + video; ++i)
    sdp += " " + std::to_string(i);
  sdp += "\r\n";
  for (size_t i = 0; i < audio + video; ++i) {
    const bool is_audio = i < audio;
    sdp += is_audio ? "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" : "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n";
    sdp +=
        "c=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
        "a=fingerprint:sha-256 " +
        std::string(kServerFingerprintSdp) + "\r\na=setup:actpass\r\na=mid:" + std::to_string(i) +
        "\r\na=recvonly\r\na=rtcp-mux\r\n";
    sdp += is_audio ? "a=rtpmap:111 opus/48000/2\r\n" : "a=rtpmap:96 VP8/90000\r\n";
  }
  return sdp;
}

TEST(Negotiator, OffersOverSixteenSectionsOfAKindAre400NamingTheLimit) {
  auto p = whip_params();
  p.kind = SessionKind::kSubscribe;
  // The SDK's shape (8 + 8) and the limit itself pass.
  EXPECT_TRUE(negotiate_answer(many_sections_offer(8, 8), ServerMediaCaps::defaults(), p));
  auto at_limit = negotiate_answer(many_sections_offer(kMaxSectionsPerKind, kMaxSectionsPerKind),
                                   ServerMediaCaps::defaults(), p);
  EXPECT_TRUE(at_limit) << at_limit.error().reason;
  for (auto [audio, video, kind] :
       {std::tuple{size_t{0}, size_t{17}, "17 video"}, std::tuple{size_t{17}, size_t{1}, "17 audio"},
        std::tuple{size_t{0}, size_t{64}, "64 video"}}) {
    auto r = negotiate_answer(many_sections_offer(audio, video), ServerMediaCaps::defaults(), p);
    ASSERT_FALSE(r) << kind;
    EXPECT_EQ(r.error().http_status, 400);
    EXPECT_EQ(r.error().reason, std::string("The offer has ") + kind +
                                    " sections; this server accepts at most 16 audio and 16 video sections.");
  }
}

}  // namespace
}  // namespace atrium::webrtc
