module github.com/kefu-hotline/kefu

go 1.26.0

require (
	github.com/hajimehoshi/go-mp3 v0.3.4
	github.com/mozillazg/go-pinyin v0.21.0
	github.com/pion/rtp v1.10.6
	github.com/pion/sdp/v3 v3.0.20
	github.com/zaf/g711 v1.4.0
)

require (
	github.com/goccy/go-yaml v1.19.2 // indirect
	github.com/pion/randutil v0.1.0 // indirect
)
