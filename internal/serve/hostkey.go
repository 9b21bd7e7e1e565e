package serve

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	gossh "golang.org/x/crypto/ssh"
)

// maxHostKeySize caps what is read as a host key: an OpenSSH private key
// is a few hundred bytes.
const maxHostKeySize = 64 << 10

// HostKey reads the server's private host key from path, creating an
// Ed25519 key there (mode 0600, in a folder made 0700) when there is none.
// It reports whether it created the key. A key that others may read, or
// a path that is a symbolic link, is refused: the host key is what
// clients recognise the server by.
func HostKey(path string) (gossh.Signer, bool, error) {
	data, err := readHostKey(path)
	created := false
	if errors.Is(err, fs.ErrNotExist) {
		data, err = createHostKey(path)
		created = err == nil
	}
	if err != nil {
		return nil, false, err
	}
	signer, err := gossh.ParsePrivateKey(data)
	if err != nil {
		return nil, false, fmt.Errorf("host key %s: %w", path, err)
	}
	return signer, created, nil
}

func readHostKey(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("host key %s is a symbolic link; give the key file itself", path)
		}
		return nil, fmt.Errorf("host key: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("host key %s is not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("host key %s may be read by others (mode %04o); make it private: chmod 600 %s", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxHostKeySize+1))
	if err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	if len(data) > maxHostKeySize {
		return nil, fmt.Errorf("host key %s is too large to be a private key", path)
	}
	return data, nil
}

// createHostKey writes a new Ed25519 host key in OpenSSH format. O_EXCL
// makes two servers starting at once agree on one key.
func createHostKey(path string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate a host key: %w", err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "irtui serve host key")
	if err != nil {
		return nil, fmt.Errorf("generate a host key: %w", err)
	}
	data := pem.EncodeToMemory(block)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readHostKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	// The umask may have taken bits away, never added them; make sure.
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("write the host key %s: %w", path, err)
	}
	return data, nil
}
