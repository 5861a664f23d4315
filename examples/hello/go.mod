module github.com/slipway-ci/slipway/examples/hello

go 1.22
