package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/pkg/v3/resource/provider"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// commandOutput collects stdout, stderr and both interleaved, and streams the selected streams to the engine
// line by line, as info messages on the resource.
type commandOutput struct {
	mu               sync.Mutex
	stdout, stderr   bytes.Buffer
	combined         bytes.Buffer
	outLine, errLine lineLogger
}

type lineLogger struct {
	enabled bool
	partial []byte
	emit    func(string)
}

func (l *lineLogger) write(p []byte) {
	if !l.enabled {
		return
	}
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			return
		}
		l.emit(string(l.partial[:i]))
		l.partial = l.partial[i+1:]
	}
}

func (l *lineLogger) flush() {
	if l.enabled && len(l.partial) > 0 {
		l.emit(string(l.partial))
		l.partial = nil
	}
}

func newCommandOutput(ctx context.Context, host *provider.HostClient, urn resource.URN, logOut, logErr bool) *commandOutput {
	emit := func(line string) {
		if host != nil {
			_ = host.Log(ctx, diag.Info, urn, line)
		}
	}
	return &commandOutput{
		outLine: lineLogger{enabled: logOut, emit: emit},
		errLine: lineLogger{enabled: logErr, emit: emit},
	}
}

type streamWriter struct {
	o      *commandOutput
	stderr bool
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.o.mu.Lock()
	defer w.o.mu.Unlock()
	w.o.combined.Write(p)
	if w.stderr {
		w.o.stderr.Write(p)
		w.o.errLine.write(p)
	} else {
		w.o.stdout.Write(p)
		w.o.outLine.write(p)
	}
	return len(p), nil
}

func (o *commandOutput) flush() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.outLine.flush()
	o.errLine.flush()
}

// runLocal runs cmd through the interpreter (default /bin/sh -c) in dir, with the provider's environment plus
// `environment` plus extraEnv.
func runLocal(ctx context.Context, props resource.PropertyMap, cmd string, extraEnv map[string]string,
	out *commandOutput,
) error {
	interpreter := []string{"/bin/sh", "-c"}
	if v, ok := props["interpreter"]; ok && v.IsArray() && len(v.ArrayValue()) > 0 {
		interpreter = nil
		for _, e := range v.ArrayValue() {
			if !e.IsString() {
				return errors.New("interpreter must be a list of strings")
			}
			interpreter = append(interpreter, e.StringValue())
		}
	}
	args := append(append([]string{}, interpreter[1:]...), cmd)
	c := exec.CommandContext(ctx, interpreter[0], args...)
	if dir, ok := str(props, "dir"); ok {
		c.Dir = dir
	}
	c.Env = os.Environ()
	for k, v := range stringMap(props, "environment") {
		c.Env = append(c.Env, k+"="+v)
	}
	for k, v := range extraEnv {
		c.Env = append(c.Env, k+"="+v)
	}
	if stdin, ok := str(props, "stdin"); ok {
		c.Stdin = strings.NewReader(stdin)
	}
	c.Stdout = streamWriter{o: out}
	c.Stderr = streamWriter{o: out, stderr: true}
	c.WaitDelay = 5 * time.Second
	return c.Run()
}

// runRemote runs cmd in an SSH session on connection.host.
func runRemote(ctx context.Context, props resource.PropertyMap, cmd string, extraEnv map[string]string,
	out *commandOutput,
) error {
	connV, ok := props["connection"]
	if ok && connV.IsSecret() {
		connV = connV.SecretValue().Element
	}
	if !ok || !connV.IsObject() {
		return errors.New("remote command without a connection")
	}
	conn := connV.ObjectValue()
	client, err := dial(ctx, conn)
	if err != nil {
		return err
	}
	defer client.Close()
	session, err := client.NewSession()
	if err != nil {
		return err
	}
	defer session.Close()
	// Like upstream, environment goes through SSH "env" requests and a refusal is not an error.
	for k, v := range stringMap(props, "environment") {
		_ = session.Setenv(k, v)
	}
	for k, v := range extraEnv {
		_ = session.Setenv(k, v)
	}
	if stdin, ok := str(props, "stdin"); ok {
		session.Stdin = strings.NewReader(stdin)
	}
	session.Stdout = streamWriter{o: out}
	session.Stderr = streamWriter{o: out, stderr: true}

	done := make(chan error, 1)
	go func() { done <- session.Run(cmd) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		_ = session.Signal(ssh.SIGKILL)
		_ = client.Close()
		return ctx.Err()
	}
}

func sshConfig(conn resource.PropertyMap) (*ssh.ClientConfig, error) {
	user, ok := str(conn, "user")
	if !ok {
		user = "root"
	}
	timeout := 15 * time.Second
	if s, ok := num(conn, "perDialTimeout"); ok && s > 0 {
		timeout = time.Duration(s * float64(time.Second))
	}
	cfg := &ssh.ClientConfig{User: user, Timeout: timeout, HostKeyCallback: ssh.InsecureIgnoreHostKey()} //nolint:gosec
	if hk, ok := str(conn, "hostKey"); ok {
		pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(hk))
		if err != nil {
			return nil, fmt.Errorf("connection.hostKey: %w", err)
		}
		cfg.HostKeyCallback = ssh.FixedHostKey(pk)
	}
	if key, ok := str(conn, "privateKey"); ok {
		var signer ssh.Signer
		var err error
		if pass, ok := str(conn, "privateKeyPassword"); ok {
			signer, err = ssh.ParsePrivateKeyWithPassphrase([]byte(key), []byte(pass))
		} else {
			signer, err = ssh.ParsePrivateKey([]byte(key))
		}
		if err != nil {
			return nil, fmt.Errorf("connection.privateKey: %w", err)
		}
		cfg.Auth = append(cfg.Auth, ssh.PublicKeys(signer))
	}
	if pw, ok := str(conn, "password"); ok {
		cfg.Auth = append(cfg.Auth, ssh.Password(pw),
			ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = pw
				}
				return answers, nil
			}))
	}
	sock, ok := str(conn, "agentSocketPath")
	if !ok {
		sock = os.Getenv("SSH_AUTH_SOCK")
	}
	if sock != "" {
		a, err := net.Dial("unix", sock)
		if err != nil {
			return nil, fmt.Errorf("ssh agent %s: %w", sock, err)
		}
		cfg.Auth = append(cfg.Auth, ssh.PublicKeysCallback(agent.NewClient(a).Signers))
	}
	return cfg, nil
}

// dial connects, retrying failed dials up to dialErrorLimit times (default 10, -1 = no limit) with a growing pause.
func dial(ctx context.Context, conn resource.PropertyMap) (*ssh.Client, error) {
	cfg, err := sshConfig(conn)
	if err != nil {
		return nil, err
	}
	host, ok := str(conn, "host")
	if !ok {
		return nil, errors.New("connection.host is required")
	}
	port := 22
	if p, ok := num(conn, "port"); ok && p > 0 {
		port = int(p)
	}
	limit := 10
	if l, ok := num(conn, "dialErrorLimit"); ok {
		limit = int(l)
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	pause := 500 * time.Millisecond
	for dials := 1; ; dials++ {
		d := net.Dialer{Timeout: cfg.Timeout}
		var client *ssh.Client
		nc, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			_ = nc.SetDeadline(time.Now().Add(cfg.Timeout))
			c, chans, reqs, herr := ssh.NewClientConn(nc, addr, cfg)
			if herr == nil {
				_ = nc.SetDeadline(time.Time{})
				client = ssh.NewClient(c, chans, reqs)
			} else {
				_ = nc.Close()
				err = herr
			}
		}
		if err == nil {
			return client, nil
		}
		if limit > -1 && dials > limit {
			return nil, fmt.Errorf("dial %s (%d attempts): %w", addr, dials, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pause):
		}
		if pause < 5*time.Second {
			pause = pause * 3 / 2
		}
	}
}
