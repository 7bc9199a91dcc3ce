module singleflight-bench/go-peer

// go 1.19: Debian bookworm's golang-go builds it too. x/sync v0.11.0 is the
// last release that asks for no newer Go; its singleflight is the same code
// as today's (only `interface{}` spelled `any` since).
go 1.19

require golang.org/x/sync v0.11.0
