// Package inferpb is the Go code generated from inference.proto, the Open
// Inference Protocol's gRPC service (package inference,
// GRPCInferenceService) as oddity serves it: the server in package server
// implements GRPCInferenceServiceServer, and the tests call it through the
// generated client, which oddity did not write by hand.
//
// The generated files are committed so that building oddity needs no
// protoc. To regenerate them after editing inference.proto, install protoc
// (3.15 or later; Debian's protobuf-compiler) and the two plugins, then run
// go generate in this folder:
//
//	go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
//	go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
//	go generate ./server/internal/inferpb
//
// which runs
//
//	protoc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative inference.proto
package inferpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative inference.proto
