// Command provider-sim simulates the data providers that the platform calls live (tax bureau
// TAX, housing fund centre HF, power grid GRID, real-estate registry NRA), serving the provider
// protocol (docs/providers.md) under /{PROVIDER}/v1/… with made-up, deterministic data.
//
//	provider-sim [--addr 127.0.0.1:8091] [--as-of YYYY-MM-DD] [--secret S] [--latency 0s] [--fail 0]
//
// Each flag may also be set in the environment: PROVIDER_SIM_ADDR, PROVIDER_SIM_AS_OF,
// PROVIDER_SIM_SECRET (preferred for the secret: flags show in process lists),
// PROVIDER_SIM_LATENCY, PROVIDER_SIM_FAIL; a flag wins over the environment. It stops
// gracefully on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"creditd/internal/connector/sim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "provider-sim:", err)
		os.Exit(1)
	}
}

type config struct {
	addr    string
	asOf    time.Time
	secret  string
	latency time.Duration
	fail    float64
}

// parseConfig reads the flags, then the environment for flags not given, then the defaults.
// Environment values are not shown as flag defaults in the usage text (the secret would be).
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("provider-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	settings := []struct {
		name, env, def, usage string
		value                 *string
	}{
		{name: "addr", env: "PROVIDER_SIM_ADDR", def: "127.0.0.1:8091", usage: "listen address, host:port; port 0 picks a free one (default 127.0.0.1:8091)"},
		{name: "as-of", env: "PROVIDER_SIM_AS_OF", usage: "date YYYY-MM-DD the data are relative to (default: today in Asia/Shanghai)"},
		{name: "secret", env: "PROVIDER_SIM_SECRET", usage: "bearer secret required on /v1 requests (default: none, any request accepted)"},
		{name: "latency", env: "PROVIDER_SIM_LATENCY", def: "0s", usage: "delay added before each /v1 answer (default 0s)"},
		{name: "fail", env: "PROVIDER_SIM_FAIL", def: "0", usage: "fraction of /v1 requests answered 503, 0 to 1 (default 0)"},
	}
	for i := range settings {
		s := &settings[i]
		s.value = fs.String(s.name, "", s.usage+"; env "+s.env)
	}
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	v := map[string]string{}
	for _, s := range settings {
		switch {
		case given[s.name]:
			v[s.name] = *s.value
		case getenv(s.env) != "":
			v[s.name] = getenv(s.env)
		default:
			v[s.name] = s.def
		}
	}

	c := config{addr: v["addr"], secret: v["secret"]}
	if a := v["as-of"]; a != "" {
		t, err := time.Parse(time.DateOnly, a)
		if err != nil {
			return config{}, fmt.Errorf("--as-of %q is not a date YYYY-MM-DD", a)
		}
		c.asOf = t
	}
	d, err := time.ParseDuration(v["latency"])
	if err != nil || d < 0 {
		return config{}, fmt.Errorf("--latency %q is not a duration such as 200ms", v["latency"])
	}
	c.latency = d
	f, err := strconv.ParseFloat(v["fail"], 64)
	if err != nil || !(f >= 0 && f <= 1) {
		return config{}, fmt.Errorf("--fail %q is not a fraction between 0 and 1", v["fail"])
	}
	c.fail = f
	return c, nil
}

// run is the whole program: it serves until ctx ends, then shuts down gracefully. The first
// line on stdout is "listening on http://HOST:PORT".
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	h, err := sim.NewHandler(sim.Options{AsOf: cfg.asOf, Secret: cfg.secret, Latency: cfg.latency, FailRate: cfg.fail, Logger: logger})
	if err != nil {
		return err
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      cfg.latency + 30*time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	asOf := "today (Asia/Shanghai)"
	if !cfg.asOf.IsZero() {
		asOf = cfg.asOf.Format(time.DateOnly)
	}
	logger.Info("provider simulator", "addr", ln.Addr().String(), "as_of", asOf, "secret", cfg.secret != "",
		"latency", cfg.latency, "fail", cfg.fail)
	if _, err := fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr()); err != nil {
		_ = ln.Close()
		return err
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	<-errc // Serve has returned http.ErrServerClosed
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}
