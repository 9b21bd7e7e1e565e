package notify

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// testCert is a self-signed certificate for 127.0.0.1 and localhost, and
// the pool that trusts it: the test mail server's TLS.
type testCert struct {
	tls  tls.Certificate
	pool *x509.CertPool
}

var (
	certOnce sync.Once
	cert     testCert
)

func newTestCert(t testing.TB) testCert {
	certOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "irtui test mail"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		cert.tls = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
		cert.pool = x509.NewCertPool()
		cert.pool.AddCert(leaf)
	})
	return cert
}

// Ways the test mail server speaks TLS.
const (
	mailSTARTTLS = iota // offers STARTTLS on a plain connection
	mailImplicit        // TLS from the first byte (smtps)
	mailPlain           // no TLS at all (refuses STARTTLS)
)

// smtpServer is a real SMTP server (emersion/go-smtp) on loopback that
// keeps every message it accepts and lets a test refuse or break any
// step: the peer mail is delivered to.
type smtpServer struct {
	t    testing.TB
	srv  *smtp.Server
	port int
	mode int

	mu       sync.Mutex
	accepted []smtpMessage
	mails    int // MAIL commands
	datas    int // DATA transfers completed by the client
	logins   []string
	// fault, if set, may refuse a step: stage is "mail", "rcpt" or
	// "data", n counts that stage from 1. A *smtp.SMTPError answers with
	// its code.
	fault func(stage string, n int) error
	// afterData, if set, runs after the text was read, before the answer:
	// it may close the connection or hang. Returning true drops the
	// message.
	afterData func(n int, c *smtp.Conn) bool
	hang      chan struct{}
}

type smtpMessage struct {
	from string
	to   []string
	data []byte
}

const (
	smtpUser     = "irtui-sender"
	smtpPassword = "pw-IRTUI-MAIL-SECRET-31c9"
)

func newSMTPServer(t testing.TB, mode int) *smtpServer {
	s := &smtpServer{t: t, mode: mode, hang: make(chan struct{})}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &smtpSession{s: s, c: c}, nil
	}))
	s.srv.Domain = "mail.test"
	s.srv.ErrorLog = quietLog{}
	s.srv.ReadTimeout, s.srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{newTestCert(t).tls}, MinVersion: tls.VersionTLS12}
	switch mode {
	case mailSTARTTLS:
		s.srv.TLSConfig = tc
	case mailImplicit:
		ln = tls.NewListener(ln, tc)
	case mailPlain:
		s.srv.AllowInsecureAuth = true
	}
	s.port = ln.Addr().(*net.TCPAddr).Port
	go func() { _ = s.srv.Serve(ln) }()
	t.Cleanup(func() {
		close(s.hang)
		_ = s.srv.Close()
	})
	return s
}

type quietLog struct{}

func (quietLog) Printf(string, ...any) {}
func (quietLog) Println(...any)        {}

// settings are the worker settings that reach this server as IRTUI_SMTP_URL
// would: STARTTLS required, as to any host but this machine.
func (s *smtpServer) settings() Settings {
	return Settings{SMTP: &SMTP{Host: "127.0.0.1", Port: s.port, ImplicitTLS: s.mode == mailImplicit,
		RequireTLS: s.mode != mailImplicit, User: smtpUser, Password: NewSecret(smtpPassword),
		RootCAs: newTestCert(s.t).pool}}
}

func (s *smtpServer) messages() []smtpMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]smtpMessage(nil), s.accepted...)
}

func (s *smtpServer) counts() (mails, datas int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mails, s.datas
}

type smtpSession struct {
	s    *smtpServer
	c    *smtp.Conn
	from string
	to   []string
}

func (ss *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		ss.s.mu.Lock()
		ss.s.logins = append(ss.s.logins, user)
		ss.s.mu.Unlock()
		if user != smtpUser || pass != smtpPassword {
			return smtp.ErrAuthFailed // 535, as real servers answer
		}
		return nil
	}), nil
}

func (ss *smtpSession) step(stage string, n int) error {
	ss.s.mu.Lock()
	fault := ss.s.fault
	ss.s.mu.Unlock()
	if fault != nil {
		return fault(stage, n)
	}
	return nil
}

func (ss *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	ss.s.mu.Lock()
	ss.s.mails++
	n := ss.s.mails
	ss.s.mu.Unlock()
	ss.from = from
	return ss.step("mail", n)
}

func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return ss.step("rcpt", len(ss.to))
}

func (ss *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	ss.s.datas++
	n, after := ss.s.datas, ss.s.afterData
	ss.s.mu.Unlock()
	if after != nil && after(n, ss.c) {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 0, 0}, Message: "dropped"}
	}
	if err := ss.step("data", n); err != nil {
		return err
	}
	ss.s.mu.Lock()
	ss.s.accepted = append(ss.s.accepted, smtpMessage{from: ss.from, to: ss.to, data: bytes.Clone(data)})
	ss.s.mu.Unlock()
	return nil
}

func (ss *smtpSession) Reset()        { ss.from, ss.to = "", nil }
func (ss *smtpSession) Logout() error { return nil }

// smtpErr is a server's refusal.
func smtpErr(code int, enhanced smtp.EnhancedCode, msg string) error {
	return &smtp.SMTPError{Code: code, EnhancedCode: enhanced, Message: msg}
}
