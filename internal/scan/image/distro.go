package image

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// distro is the operating system of an image, from /etc/os-release or an
// SBOM, as far as OSV ecosystem names need it.
type distro struct {
	ID        string // "debian", "ubuntu"
	VersionID string // "12", "22.04"
	LTS       bool   // an Ubuntu LTS release
}

// maxOSRelease bounds an os-release file; real ones are well under 1 KiB.
const maxOSRelease = 64 << 10

// parseOSRelease reads the KEY=value lines of os-release(5). Lines it
// cannot read are skipped, as systemd does.
func parseOSRelease(r io.Reader) distro {
	var d distro
	sc := bufio.NewScanner(io.LimitReader(r, maxOSRelease))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		if u, err := strconv.Unquote(v); err == nil {
			v = u
		} else {
			v = strings.Trim(v, `"'`)
		}
		switch k {
		case "ID":
			d.ID = strings.ToLower(v)
		case "VERSION_ID":
			d.VersionID = v
		case "VERSION":
			d.LTS = strings.Contains(v, "LTS")
		}
	}
	return d
}

// distroQualifier reads a purl's distro qualifier, "debian-12" or
// "ubuntu-22.04" (a bare codename such as "bookworm" says no version).
func distroQualifier(vendor, q string) distro {
	id, ver, ok := strings.Cut(strings.ToLower(q), "-")
	if !ok || ver == "" || ver[0] < '0' || ver[0] > '9' {
		return distro{ID: vendor}
	}
	return distro{ID: id, VersionID: ver}
}

// debEcosystem is the OSV ecosystem of a .deb on d: "Debian:12",
// "Ubuntu:22.04:LTS", or "Debian" when the release is unknown. ok is false
// for distributions OSV has no records for under these names.
func debEcosystem(d distro) (string, bool) {
	switch d.ID {
	case "debian", "":
		major, _, _ := strings.Cut(d.VersionID, ".")
		if major == "" {
			return "Debian", true
		}
		return "Debian:" + major, true
	case "ubuntu":
		if d.VersionID == "" {
			return "", false
		}
		eco := "Ubuntu:" + d.VersionID
		if d.LTS {
			eco += ":LTS"
		}
		return eco, true
	}
	return "", false
}
