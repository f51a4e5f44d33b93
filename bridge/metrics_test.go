package bridge

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestMetricsRuntimeAndErrors: the private registry's /metrics has the Go
// runtime and process collectors, error frames counted by protocol code and
// sessions ended by close code.
func TestMetricsRuntimeAndErrors(t *testing.T) {
	t.Parallel()
	ds, up := devUpstream(t)
	h := newHarness(t, Config{Upstreams: []Upstream{up}})
	c := h.openDev(ds, "read")
	f := c.call(map[string]any{"op": "select", "mailbox": "No such mailbox"})
	code := f.errCode()
	if code == "" {
		t.Fatalf("select of a missing mailbox: %s", f)
	}
	bad, _, err := h.dial("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bm90LWEtc2lnbmF0dXJl")
	if err != nil {
		t.Fatal(err)
	}
	defer bad.close()
	want := []string{
		"go_goroutines ", "go_memstats_heap_alloc_bytes ", "process_cpu_seconds_total ", "process_resident_memory_bytes ",
		`imapbridge_errors_total{code="` + code + `"} 1`,
		`imapbridge_session_closes_total{code="4401"} 1`,
	}
	var body string
	for deadline := time.Now().Add(waitFrame); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(h.hs.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		missing := ""
		for _, w := range want {
			if !strings.Contains(body, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics lacks %q:\n%s", missing, body)
		}
	}
}
