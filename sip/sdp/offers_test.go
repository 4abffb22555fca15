package sdp

import "strings"

// Offers written in the shape real user agents send them. The addresses are
// documentation ranges; session ids, ports and attributes are made up but
// follow each agent's habits. Test bodies use CRLF unless a case says
// otherwise; crlf converts the LF-only raw strings below.

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// asterisk: chan_pjsip offering G.711 and RFC 4733 events.
const asteriskOffer = `v=0
o=- 1780434539 1780434539 IN IP4 192.0.2.10
s=Asterisk
c=IN IP4 192.0.2.10
t=0 0
m=audio 17372 RTP/AVP 0 8 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=maxptime:150
a=sendrecv
`

// freeswitch: wideband codecs first, two telephone-event rates, CN.
const freeswitchOffer = `v=0
o=FreeSWITCH 1712345678 1712345679 IN IP4 198.51.100.20
s=FreeSWITCH
c=IN IP4 198.51.100.20
t=0 0
m=audio 24580 RTP/AVP 102 9 0 8 103 101 13
a=rtpmap:102 opus/48000/2
a=fmtp:102 useinbandfec=1; maxplaybackrate=16000
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:103 telephone-event/48000
a=fmtp:103 0-16
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=rtpmap:13 CN/8000
a=ptime:20
a=sendrecv
a=rtcp:24581 IN IP4 198.51.100.20
`

// linphone: no rtpmap for the static types, ICE, rtcp-fb, and a video
// stream kefu must refuse.
const linphoneOffer = `v=0
o=alice 3046 1722 IN IP4 10.0.0.23
s=Talk
c=IN IP4 203.0.113.5
t=0 0
a=ice-pwd:31ec21eb38b2ec6d36e8dc7b
a=ice-ufrag:aad4cf3e
a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics
a=record:off
m=audio 7078 RTP/AVP 96 97 98 0 8 18 101 99 100
a=rtpmap:96 opus/48000/2
a=fmtp:96 useinbandfec=1
a=rtpmap:97 speex/16000
a=fmtp:97 vbr=on
a=rtpmap:98 speex/8000
a=fmtp:98 vbr=on
a=fmtp:18 annexb=yes
a=rtpmap:101 telephone-event/48000
a=rtpmap:99 telephone-event/16000
a=rtpmap:100 telephone-event/8000
a=rtcp:7079
a=candidate:1 1 UDP 2130706303 10.0.0.23 7078 typ host
a=candidate:1 2 UDP 2130706302 10.0.0.23 7079 typ host
a=candidate:2 1 UDP 1694498687 203.0.113.5 7078 typ srflx raddr 10.0.0.23 rport 7078
a=rtcp-fb:* trr-int 1000
a=rtcp-fb:* ccm tmmbr
m=video 9078 RTP/AVP 96 97
a=rtpmap:96 VP8/90000
a=rtpmap:97 H264/90000
a=fmtp:97 profile-level-id=42801F
a=rtcp-fb:* ccm fir
a=rtcp-fb:* nack pli
`

// baresip: opus stereo, G722, then G.711.
const baresipOffer = `v=0
o=- 1298675812 3921764309 IN IP4 192.168.1.40
s=-
c=IN IP4 192.168.1.40
t=0 0
m=audio 10000 RTP/AVP 116 9 0 8 101
b=AS:128
a=rtpmap:116 opus/48000/2
a=fmtp:116 stereo=1;sprop-stereo=1
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv
a=label:1
a=rtcp-rsize
a=ssrc:1785318765 cname:8c1d0b8e-5b4b-4f2c-9f2f-1c0e5d7a9b11
`

// cisco: a gateway preferring A-law with 30 ms packets and CN, c= only at
// session level.
const ciscoOffer = `v=0
o=CiscoSystemsSIP-GW-UserAgent 4417 2395 IN IP4 172.16.5.2
s=SIP Call
c=IN IP4 172.16.5.2
t=0 0
m=audio 16434 RTP/AVP 8 0 18 101 13
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:18 G729/8000
a=fmtp:18 annexb=no
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=rtpmap:13 CN/8000
a=ptime:30
`

// holdSendonly: the Asterisk call re-offered on hold, version bumped.
const holdSendonlyOffer = `v=0
o=- 1780434539 1780434540 IN IP4 192.0.2.10
s=Asterisk
c=IN IP4 192.0.2.10
t=0 0
m=audio 17372 RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendonly
`

// holdZeroAddr: RFC 2543 hold, the address zeroed and no direction.
const holdZeroAddrOffer = `v=0
o=user 53655765 2353687638 IN IP4 198.51.100.7
s=-
c=IN IP4 0.0.0.0
t=0 0
m=audio 3456 RTP/AVP 0
a=rtpmap:0 PCMU/8000
`

// holdZeroInactive: zeroed address and a=inactive together.
const holdZeroInactiveOffer = `v=0
o=user 53655765 2353687639 IN IP4 198.51.100.7
s=-
c=IN IP4 0.0.0.0
t=0 0
m=audio 3456 RTP/AVP 0
a=inactive
`

// inactive: a real address but a=inactive.
const inactiveOffer = `v=0
o=user 53655765 2353687640 IN IP4 198.51.100.7
s=-
c=IN IP4 198.51.100.7
t=0 0
m=audio 3456 RTP/AVP 8 0
a=inactive
`

// sessionSendonly: the direction at session level, c= at media level.
const sessionSendonlyOffer = `v=0
o=pbx 77 78 IN IP4 192.0.2.99
s=call
t=0 0
a=sendonly
m=audio 40000 RTP/AVP 8
c=IN IP4 192.0.2.99
`

// recvonly: the peer only wants to listen.
const recvonlyOffer = `v=0
o=pbx 77 79 IN IP4 192.0.2.99
s=call
c=IN IP4 192.0.2.99
t=0 0
m=audio 40000 RTP/AVP 0
a=recvonly
`

// ipv6: an IPv6 offer with mixed-case encoding names and a dynamic PCMA.
const ipv6Offer = `v=0
o=- 5 5 IN IP6 2001:db8::5
s=-
c=IN IP6 2001:db8::5
t=0 0
m=audio 5004 RTP/AVP 96 101
a=rtpmap:96 pcma/8000
a=rtpmap:101 Telephone-Event/8000
a=ptime:10
`

// srtpFirst: SRTP and plain RTP offered as two audio streams.
const srtpFirstOffer = `v=0
o=- 9 9 IN IP4 192.0.2.50
s=-
c=IN IP4 192.0.2.50
t=0 0
m=audio 30000 RTP/SAVP 0 101
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz
a=rtpmap:101 telephone-event/8000
m=audio 30002 RTP/AVP 0 101
a=rtpmap:101 telephone-event/8000
`

// oddPtime: 25 ms packets kefu will not produce; maxptime 40.
const oddPtimeOffer = `v=0
o=- 1 1 IN IP4 192.0.2.60
s=-
c=IN IP4 192.0.2.60
t=0 0
m=audio 6000 RTP/AVP 0
a=ptime:25
a=maxptime:40
`

// smallMaxptime: no ptime, but maxptime below the default.
const smallMaxptimeOffer = `v=0
o=- 1 1 IN IP4 192.0.2.60
s=-
c=IN IP4 192.0.2.60
t=0 0
m=audio 6000 RTP/AVP 8
a=maxptime:10
`

// g729Only: nothing kefu speaks.
const g729Offer = `v=0
o=- 2 2 IN IP4 192.0.2.70
s=-
c=IN IP4 192.0.2.70
t=0 0
m=audio 8000 RTP/AVP 18 101
a=rtpmap:18 G729/8000
a=fmtp:18 annexb=no
a=rtpmap:101 telephone-event/8000
`

// videoOnly: a video call.
const videoOnlyOffer = `v=0
o=- 3 3 IN IP4 192.0.2.80
s=-
c=IN IP4 192.0.2.80
t=0 0
m=video 9000 RTP/AVP 96
a=rtpmap:96 H264/90000
`

// noMedia: a session with no m= line at all.
const noMediaOffer = `v=0
o=- 4 4 IN IP4 192.0.2.90
s=-
c=IN IP4 192.0.2.90
t=0 0
`

// badPort: a port out of range.
const badPortOffer = `v=0
o=- 4 4 IN IP4 192.0.2.90
s=-
c=IN IP4 192.0.2.90
t=0 0
m=audio 70000 RTP/AVP 0
`

// wordPort: a port that is not a number.
const wordPortOffer = `v=0
o=- 4 4 IN IP4 192.0.2.90
s=-
c=IN IP4 192.0.2.90
t=0 0
m=audio rtp RTP/AVP 0
`

// noConnection: an audio stream with no c= anywhere.
const noConnectionOffer = `v=0
o=- 4 4 IN IP4 192.0.2.90
s=-
t=0 0
m=audio 5000 RTP/AVP 0
`

// hostConnection: a host name where an address belongs.
const hostConnectionOffer = `v=0
o=- 4 4 IN IP4 192.0.2.90
s=-
c=IN IP4 pbx.example.com
t=0 0
m=audio 5000 RTP/AVP 0
`

// noOrigin: v= then straight to media.
const noOriginOffer = `v=0
s=-
c=IN IP4 192.0.2.90
t=0 0
m=audio 5000 RTP/AVP 0
`
