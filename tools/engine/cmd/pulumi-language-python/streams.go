package main

import (
	"io"
	"sync"
)

// outputStream turns a child process's stdout and stderr into messages of one
// server-streaming gRPC call (RunPlugin, InstallDependencies).
//
// grpc-go forbids concurrent sends on one stream, and exec.Cmd copies stdout and
// stderr in two goroutines, so every send holds mu. Once the call is over (or a
// send failed: the engine hung up) output is dropped instead of sent, so a
// process that outlives the call never writes to a finished stream and never
// blocks on a full pipe.
type outputStream struct {
	mu     sync.Mutex
	closed bool
	send   func(stdout, stderr []byte) error
}

func newOutputStream(send func(stdout, stderr []byte) error) *outputStream {
	return &outputStream{send: send}
}

// do runs one send under the lock, unless the stream is closed.
func (s *outputStream) do(f func() error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if err := f(); err != nil {
		s.closed = true
	}
}

// close stops all further sends; it returns once no send is in progress.
func (s *outputStream) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
}

type streamWriter struct {
	s      *outputStream
	stderr bool
}

func (w streamWriter) Write(p []byte) (int, error) {
	// Send marshals the message before it returns, so p is not kept.
	w.s.do(func() error {
		if w.stderr {
			return w.s.send(nil, p)
		}
		return w.s.send(p, nil)
	})
	return len(p), nil
}

func (s *outputStream) stdout() io.Writer { return streamWriter{s: s} }
func (s *outputStream) stderr() io.Writer { return streamWriter{s: s, stderr: true} }

// print writes a line of the host's own to the stream's stdout.
func (s *outputStream) print(msg string) {
	_, _ = s.stdout().Write([]byte(msg))
}
