package supervisor

import (
	"reflect"
	"testing"
)

func TestParseProcStat(t *testing.T) {
	tail := " 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 987654 20 21"
	tests := []struct {
		name    string
		in      string
		want    procStat
		wantErr bool
	}{
		{"plain", "42 (hello) S" + tail, procStat{'S', 987654}, false},
		{"spaces and parens in name", "42 (a) b (c) Z" + tail, procStat{'Z', 987654}, false},
		{"no name", "42 hello S" + tail, procStat{}, true},
		{"short", "42 (hello) S 1 2 3", procStat{}, true},
		{"bad start time", "42 (x) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 -5 20", procStat{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProcStat([]byte(tt.in))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseProcStat = %+v, %v; want %+v, err %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseMountinfo(t *testing.T) {
	in := `25 30 0:22 / /sys/fs/cgroup rw - tmpfs tmpfs rw
26 25 0:23 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
27 25 0:24 /sub /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
28 25 0:25 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
29 25 0:26 / /mnt/with\040space rw - cgroup cgroup rw,pids
garbage line`
	want := []mount{
		{root: "/", point: "/sys/fs/cgroup/cpu,cpuacct", controllers: []string{"cpu"}},
		{root: "/sub", point: "/sys/fs/cgroup/memory", controllers: []string{"memory"}},
		{root: "/", point: "/sys/fs/cgroup/unified", v2: true},
		{root: "/", point: "/mnt/with space"},
	}
	if got := parseMountinfo([]byte(in)); !reflect.DeepEqual(got, want) {
		t.Errorf("parseMountinfo =\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseSelfCgroup(t *testing.T) {
	in := "4:memory:/process_api/abc\n2:cpu,cpuacct:/\n0::/user.slice\n"
	want := map[string]string{"memory": "/process_api/abc", "cpu": "/", "cpuacct": "/", "": "/user.slice"}
	if got := parseSelfCgroup([]byte(in)); !reflect.DeepEqual(got, want) {
		t.Errorf("parseSelfCgroup = %v, want %v", got, want)
	}
}

func FuzzParseProcStat(f *testing.F) {
	f.Add([]byte("42 (hello) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 987654 20 21"))
	f.Add([]byte("1 ()) R"))
	f.Add([]byte(")"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if st, err := parseProcStat(b); err != nil && st != (procStat{}) {
			t.Errorf("error with a value: %+v", st)
		}
	})
}

func FuzzParseMountinfo(f *testing.F) {
	f.Add([]byte("27 25 0:24 /sub /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"))
	f.Add([]byte("28 25 0:25 / /a\\040b rw - cgroup2 cgroup2 rw\n"))
	f.Add([]byte(" - - -\n\\"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, m := range parseMountinfo(b) {
			if m.v2 && len(m.controllers) > 0 {
				t.Errorf("v2 mount with v1 controllers: %+v", m)
			}
		}
	})
}

func FuzzParseSelfCgroup(f *testing.F) {
	f.Add([]byte("4:memory:/a\n0::/b\n"))
	f.Add([]byte(":::\n1:,:"))
	f.Fuzz(func(t *testing.T, b []byte) { _ = parseSelfCgroup(b) })
}
