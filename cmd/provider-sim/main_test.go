package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"creditd/internal/uscc"
)

func TestRunServesAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	env := map[string]string{"PROVIDER_SIM_SECRET": "dev-secret", "PROVIDER_SIM_AS_OF": "2026-03-10"}
	out, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, outW, io.Discard)
		_ = outW.Close()
	}()

	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("no listening line: %v", err)
	}
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok || !strings.HasPrefix(base, "http://127.0.0.1:") || strings.HasSuffix(base, ":0") {
		t.Fatalf("first line %q", line)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()

	code, err := uscc.Complete("91210102MA0QWERT1")
	if err != nil {
		t.Fatal(err)
	}
	get := func(path, secret string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if secret != "" {
			req.Header.Set("Authorization", "Bearer "+secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, b
	}
	if resp, _ := get("/healthz", ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
	if resp, _ := get("/TAX/v1/items/tax.payment/records?uscc="+string(code), ""); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without the secret: %d", resp.StatusCode)
	}
	resp, body := get("/TAX/v1/items/tax.payment/records?uscc="+string(code), "dev-secret")
	var got struct {
		Records []struct {
			OccurredOn string `json:"occurredOn"`
		} `json:"records"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &got) != nil || len(got.Records) == 0 {
		t.Fatalf("records: %d %s", resp.StatusCode, body)
	}
	for _, r := range got.Records {
		if r.OccurredOn > "2026-03-10" {
			t.Fatalf("record dated %s after --as-of (from the environment)", r.OccurredOn)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v after its context ended", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop after its context ended")
	}
	if resp, err := http.Get(base + "/healthz"); err == nil {
		_ = resp.Body.Close()
		t.Fatal("still serving after shutdown")
	}
}

func TestRunRefusesBadConfiguration(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"fail above 1", []string{"--fail", "1.5"}, nil, "--fail"},
		{"fail not a number", []string{"--fail", "half"}, nil, "--fail"},
		{"bad latency", []string{"--latency", "soon"}, nil, "--latency"},
		{"negative latency", []string{"--latency", "-1s"}, nil, "--latency"},
		{"bad as-of", []string{"--as-of", "2026-13-01"}, nil, "--as-of"},
		{"bad as-of from env", nil, map[string]string{"PROVIDER_SIM_AS_OF": "yesterday"}, "--as-of"},
		{"extra argument", []string{"serve"}, nil, "unexpected argument"},
		{"unknown flag", []string{"--port", "1"}, nil, "port"},
		{"bad address", []string{"--addr", "127.0.0.1:notaport"}, nil, "listen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout strings.Builder
			err := run(t.Context(), tc.args, func(k string) string { return tc.env[k] }, &stdout, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one about %s", err, tc.want)
			}
			if stdout.Len() != 0 {
				t.Fatalf("printed %q before refusing", stdout.String())
			}
		})
	}
}

func TestFlagsOverrideEnvironment(t *testing.T) {
	env := map[string]string{
		"PROVIDER_SIM_ADDR": "127.0.0.1:9000", "PROVIDER_SIM_SECRET": "from-env",
		"PROVIDER_SIM_LATENCY": "1s", "PROVIDER_SIM_FAIL": "0.5", "PROVIDER_SIM_AS_OF": "2026-01-01",
	}
	getenv := func(k string) string { return env[k] }
	cfg, err := parseConfig(nil, getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.addr != "127.0.0.1:9000" || cfg.secret != "from-env" || cfg.latency != time.Second || cfg.fail != 0.5 || cfg.asOf.Format(time.DateOnly) != "2026-01-01" {
		t.Fatalf("from the environment: %+v", cfg)
	}
	cfg, err = parseConfig([]string{"--addr", "127.0.0.1:0", "--secret", "s", "--latency", "20ms", "--fail", "0", "--as-of", "2025-12-31"}, getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.addr != "127.0.0.1:0" || cfg.secret != "s" || cfg.latency != 20*time.Millisecond || cfg.fail != 0 || cfg.asOf.Format(time.DateOnly) != "2025-12-31" {
		t.Fatalf("flags: %+v", cfg)
	}
	var help strings.Builder
	if _, err := parseConfig([]string{"--help"}, getenv, &help); !errors.Is(err, flag.ErrHelp) || !strings.Contains(help.String(), "PROVIDER_SIM_SECRET") {
		t.Fatalf("--help: %v\n%s", err, help.String())
	}
	if strings.Contains(help.String(), "from-env") {
		t.Fatalf("usage shows the secret from the environment:\n%s", help.String())
	}
	cfg, err = parseConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.addr != "127.0.0.1:8091" || cfg.secret != "" || cfg.latency != 0 || cfg.fail != 0 || !cfg.asOf.IsZero() {
		t.Fatalf("defaults: %+v", cfg)
	}
}
