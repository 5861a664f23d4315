package supplychain

import "errors"

var (
	// ErrBadPassphrase means an encrypted private key could not be decrypted
	// with the passphrase given.
	ErrBadPassphrase = errors.New("wrong passphrase for private key")
	// ErrKeyExists means a key pair of that name is already on disk.
	ErrKeyExists = errors.New("signing key already exists")
	// ErrUnsupportedKey means a key is not ECDSA P-256.
	ErrUnsupportedKey = errors.New("unsupported key: want ECDSA P-256")
	// ErrNoTrustedKey means a signature verified with none of the keys given.
	ErrNoTrustedKey = errors.New("signature does not verify with any trusted key")
	// ErrSubjectMismatch means a signed payload names another artifact.
	ErrSubjectMismatch = errors.New("signed payload names another artifact")
	// ErrNoSignature means no verified signature was found for an image.
	ErrNoSignature = errors.New("no verified signature")
)
