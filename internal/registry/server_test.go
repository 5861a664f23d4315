package registry

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

func randomImage(tb testing.TB) v1.Image {
	tb.Helper()
	img, err := random.Image(512, 2)
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

// statusOf returns the HTTP status of a registry error, 0 for nil.
func statusOf(tb testing.TB, err error) int {
	tb.Helper()
	if err == nil {
		return 0
	}
	var te *transport.Error
	if !errors.As(err, &te) {
		tb.Fatalf("not a registry error: %v", err)
	}
	return te.StatusCode
}

func TestPushPullRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s := serve(t, Options{StateDir: dir})
	c := credsOf(t, dir)
	img := randomImage(t)
	r := ref(t, s.Addr(), "team/app:sha-0123abc")
	if err := remote.Write(r, img, withAuth(c.Username, c.Password)); err != nil {
		t.Fatal(err)
	}
	// Anonymous pull.
	got, err := remote.Image(r)
	if err != nil {
		t.Fatal(err)
	}
	wantDigest, _ := img.Digest()
	gotDigest, _ := got.Digest()
	if gotDigest != wantDigest {
		t.Fatalf("pulled %s, pushed %s", gotDigest, wantDigest)
	}
	layers, _ := img.Layers()
	for _, l := range layers {
		d, _ := l.Digest()
		bl, err := remote.Layer(ref(t, s.Addr(), "team/app@"+d.String()).Context().Digest(d.String()))
		if err != nil {
			t.Fatal(err)
		}
		if err := compareLayer(l, bl); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWriteAuthAndPolicy(t *testing.T) {
	dir := t.TempDir()
	s := serve(t, Options{StateDir: dir})
	c := credsOf(t, dir)
	user := withAuth(c.Username, c.Password)
	admin := withAuth(AdminUser, c.Admin)
	if err := ProtectTag(dir, "staging"); err != nil {
		t.Fatal(err)
	}
	img, other := randomImage(t), randomImage(t)
	otherDigest, _ := other.Digest()

	tests := []struct {
		name string
		do   func() error
		want int
	}{
		{"unauthenticated push", func() error { return remote.Write(ref(t, s.Addr(), "app:latest"), img) }, 401},
		{"wrong password", func() error { return remote.Write(ref(t, s.Addr(), "app:latest"), img, withAuth(c.Username, "wrong")) }, 401},
		{"user push", func() error { return remote.Write(ref(t, s.Addr(), "app:latest"), img, user) }, 0},
		{"user pushes release", func() error { return remote.Write(ref(t, s.Addr(), "app:v1.0.0"), img, user) }, 0},
		{"release re-push same digest", func() error { return remote.Write(ref(t, s.Addr(), "app:v1.0.0"), img, user) }, 0},
		{"release moved to other digest", func() error { return remote.Write(ref(t, s.Addr(), "app:v1.0.0"), other, user) }, 403},
		{"release moved by admin", func() error { return remote.Write(ref(t, s.Addr(), "app:v1.0.0"), other, admin) }, 403},
		{"mutable tag moves", func() error { return remote.Write(ref(t, s.Addr(), "app:latest"), other, user) }, 0},
		{"env tag by user", func() error { return remote.Tag(ref(t, s.Addr(), "app:staging").(name.Tag), img, user) }, 403},
		{"env tag by admin", func() error { return remote.Tag(ref(t, s.Addr(), "app:staging").(name.Tag), img, admin) }, 0},
		{"env tag delete by user", func() error { return remote.Delete(ref(t, s.Addr(), "app:staging"), user) }, 403},
		{"delete outside scratch by user", func() error {
			return remote.Delete(ref(t, s.Addr(), "app@"+otherDigest.String()), user)
		}, 403},
		{"push to scratch", func() error { return remote.Write(ref(t, s.Addr(), "conformance/x:t"), other, user) }, 0},
		{"delete in scratch by user", func() error {
			return remote.Delete(ref(t, s.Addr(), "conformance/x@"+otherDigest.String()), user)
		}, 0},
		{"delete outside scratch by admin", func() error {
			return remote.Delete(ref(t, s.Addr(), "app@"+otherDigest.String()), admin)
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			if got := statusOf(t, err); got != tt.want {
				t.Fatalf("status %d (%v), want %d", got, err, tt.want)
			}
		})
	}

	// The refused move left the release where it was.
	desc, err := remote.Head(ref(t, s.Addr(), "app:v1.0.0"))
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := img.Digest(); desc.Digest != want {
		t.Fatalf("v1.0.0 -> %s, want %s", desc.Digest, want)
	}
}

func TestImmutableRefusalNamesDigest(t *testing.T) {
	dir := t.TempDir()
	s := serve(t, Options{StateDir: dir})
	c := credsOf(t, dir)
	img := randomImage(t)
	if err := remote.Write(ref(t, s.Addr(), "app:v2"), img, withAuth(c.Username, c.Password)); err != nil {
		t.Fatal(err)
	}
	err := remote.Write(ref(t, s.Addr(), "app:v2"), randomImage(t), withAuth(c.Username, c.Password))
	d, _ := img.Digest()
	if err == nil || !strings.Contains(err.Error(), `"v2"`) || !strings.Contains(err.Error(), d.String()) || !strings.Contains(err.Error(), "DENIED") {
		t.Fatalf("err = %v, want DENIED naming v2 and %s", err, d)
	}
}

func TestBearerAdminToken(t *testing.T) {
	dir := t.TempDir()
	s := serve(t, Options{StateDir: dir})
	c := credsOf(t, dir)
	img := randomImage(t)
	if err := remote.Write(ref(t, s.Addr(), "app:latest"), img, withAuth(c.Username, c.Password)); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	for _, tc := range []struct {
		token string
		want  int
	}{{c.Password, 401}, {c.Admin, 202}} {
		req, _ := http.NewRequest(http.MethodDelete, "http://"+s.Addr()+"/v2/app/manifests/"+d.String(), nil)
		req.Header.Set("Authorization", "Bearer "+tc.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Fatalf("bearer delete: %d, want %d", resp.StatusCode, tc.want)
		}
	}
}

func TestProtectTagReloads(t *testing.T) {
	dir := t.TempDir()
	s := serve(t, Options{StateDir: dir})
	c := credsOf(t, dir)
	img := randomImage(t)
	user := withAuth(c.Username, c.Password)
	tag := ref(t, s.Addr(), "app:production").(name.Tag)
	if err := remote.Write(tag, img, user); err != nil {
		t.Fatalf("before protection: %v", err)
	}
	if err := ProtectTag(dir, "production"); err != nil {
		t.Fatal(err)
	}
	if err := ProtectTag(dir, "production"); err != nil { // idempotent
		t.Fatal(err)
	}
	if got := statusOf(t, remote.Tag(tag, randomImage(t), user)); got != 403 {
		t.Fatalf("after protection: status %d, want 403", got)
	}
	if err := ProtectTag(dir, "not a tag"); err == nil {
		t.Fatal("ProtectTag accepted an invalid tag")
	}
}

func TestCredentialsStable(t *testing.T) {
	dir := t.TempDir()
	results := make(chan Creds, 8)
	for range 8 {
		go func() {
			c, err := Credentials(dir)
			if err != nil {
				t.Error(err)
			}
			results <- c
		}()
	}
	first := <-results
	for range 7 {
		if c := <-results; c != first {
			t.Fatalf("concurrent first use disagrees: %+v vs %+v", c, first)
		}
	}
	if first.Username == "" || len(first.Password) < 32 || len(first.Admin) < 32 || first.Password == first.Admin {
		t.Fatalf("weak credentials %+v", first)
	}
	again, err := Credentials(dir)
	if err != nil || again != first {
		t.Fatalf("Credentials changed: %+v, %v", again, err)
	}
}

func TestIsLoopback(t *testing.T) {
	for in, want := range map[string]bool{"127.0.0.1:5000": true, "localhost:5000": true, "[::1]:80": true, "::1": true,
		"localhost": true, "ghcr.io": false, "10.0.0.1:5000": false, "0.0.0.0:5000": false} {
		if got := IsLoopback(in); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", in, got, want)
		}
	}
}
