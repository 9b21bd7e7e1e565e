// Package witness anchors the ends of irtui's hash chains outside the
// database: it signs checkpoints of both chain heads with an Ed25519 key
// kept outside the database, appends them to a witness file (and, if
// configured, posts them to a Slack channel through the outbox), and reads
// them back for `irtui audit verify --checkpoints`.
//
// Without an anchor, whoever can write the database file can cut entries
// off the end of both chains, or rewrite and rehash them, and the chains
// still verify: the algorithm is public and needs no key. A checkpoint
// signed before that happened, kept where that person cannot reach it,
// shows what was there.
package witness

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeyEnv names the signing key file, overriding the default.
const KeyEnv = "IRTUI_CHECKPOINT_KEY"

// DefaultKeyPath is $IRTUI_CHECKPOINT_KEY, or checkpoint.key in irtui's
// configuration folder ($XDG_CONFIG_HOME/irtui, ~/.config/irtui): outside
// the data folder, so a copy of the data does not carry the key along.
func DefaultKeyPath() (string, error) {
	if p := strings.TrimSpace(os.Getenv(KeyEnv)); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no place for the checkpoint signing key: %w; set %s", err, KeyEnv)
	}
	return filepath.Join(dir, "irtui", "checkpoint.key"), nil
}

// Signer holds the private key that signs checkpoints.
type Signer struct {
	Path string
	key  ed25519.PrivateKey
}

// Public is the public key, as PublicKeyString writes it.
func (s *Signer) Public() string { return PublicKeyString(s.key.Public().(ed25519.PublicKey)) }

// PublicKeyString writes a public key as "ed25519:" and its 32 bytes in
// base64.
func PublicKeyString(pub ed25519.PublicKey) string {
	return "ed25519:" + base64.StdEncoding.EncodeToString(pub)
}

// ParsePublicKey reads a key written by PublicKeyString, or the first line
// of a file holding one (such as checkpoint.key.pub).
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "ed25519:") {
		b, err := os.ReadFile(s)
		if err != nil {
			return nil, fmt.Errorf("public key %q: write it as ed25519:BASE64, or name a file holding it: %w", s, err)
		}
		line, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
		if line = strings.TrimSpace(line); !strings.HasPrefix(line, "ed25519:") {
			return nil, fmt.Errorf("%s: its first line is not a public key (ed25519:BASE64)", s)
		}
		s = line
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "ed25519:"))
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("public key %q is not an Ed25519 key (ed25519: and 32 bytes in base64)", s)
	}
	return ed25519.PublicKey(raw), nil
}

// LoadKey reads the signing key at path; it does not create one.
func LoadKey(path string) (*Signer, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint signing key: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("checkpoint signing key %s can be read by others (mode %#o): run chmod 600 %s",
			path, st.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint signing key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s: not a PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an Ed25519 key", path)
	}
	return &Signer{Path: path, key: ek}, nil
}

// LoadOrCreateKey reads the signing key at path, creating it (mode 0600,
// its folder 0700, and its public key beside it as PATH.pub) when there
// is none; created says it was made now, so that its public key can be
// shown for safekeeping.
func LoadOrCreateKey(path string) (s *Signer, created bool, err error) {
	s, err = LoadKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return s, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("create the folder of the checkpoint signing key: %w", err)
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, false, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		s, err := LoadKey(path) // another process made it first
		return s, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("create the checkpoint signing key: %w", err)
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		f.Close()
		return nil, false, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, false, err
	}
	if err := f.Close(); err != nil {
		return nil, false, err
	}
	s = &Signer{Path: path, key: key}
	if err := os.WriteFile(path+".pub", []byte(s.Public()+"\n"), 0o600); err != nil {
		return nil, false, fmt.Errorf("write the checkpoint public key: %w", err)
	}
	return s, true, nil
}
