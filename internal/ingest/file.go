package ingest

import (
	"creditd/internal/jsonnum"

	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"creditd/internal/apperr"
)

// Format is the syntax of a bulk file.
type Format string

const (
	// NDJSON is one RecordInput-shaped JSON object per line:
	// {"sourceId":…,"uscc":…,"occurredOn":…,"endsOn":…,"data":{…}}.
	NDJSON Format = "ndjson"
	// CSV has the header source_id,uscc,occurred_on,ends_on followed by payload columns.
	CSV Format = "csv"
)

// ParseFormat returns the format named s ("ndjson" or "csv", any case).
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case NDJSON, CSV:
		return f, nil
	}
	return "", apperr.New(apperr.BadInput, "format %q: must be ndjson or csv", s)
}

// Progress describes a file load so far. The Progress returned by LoadFile holds the final
// totals: Rows = Accepted + Updated + Duplicates + Rejected when the load completed.
type Progress struct {
	Rows       int // data rows read from the file (blank lines and the CSV header excluded)
	Accepted   int // new records committed
	Updated    int // corrections committed
	Duplicates int // rows identical to the stored record
	Rejected   int // rows rejected (each passed to onReject)
	Elapsed    time.Duration
}

// maxChunkBytes bounds the payload bytes merged in one transaction.
const maxChunkBytes = 64 << 20

// maxLineBytes bounds one NDJSON line.
const maxLineBytes = MaxDataBytes + 64<<10

// progressEvery is the interval between progress reports.
const progressEvery = time.Second

// LoadFile loads a bulk file of one item for one provider. Whole-call problems (the item
// rules of Submit, an unknown format, a wrong CSV header, an unreadable file) are errors; bad
// rows are rejected one by one with their physical line number and passed to onReject (in
// line order, after the chunk holding them commits), and the other rows land. onProgress is
// called once a second (counting the rows read and the outcomes committed so far) and once at
// the end with the totals. Either callback may be nil; both are called from the calling
// goroutine, never concurrently.
//
// Rows are merged in chunks of Options.ChunkSize rows; the rows of a chunk are split into
// lanes by sourceId and each lane's part is merged by its own transaction, the lanes at once.
// A sourceId repeated in the file starts a new chunk, so that repetitions apply in order. If
// the load fails part way, what was committed stays: loading is idempotent, so the same file
// can be loaded again. The returned Progress holds the totals of the chunks completed, also
// on error.
func (l *Loader) LoadFile(ctx context.Context, provider, item string, format Format, r io.Reader, onReject func(Rejection), onProgress func(Progress)) (Progress, error) {
	start := time.Now()
	var total Progress
	if _, err := l.checkItem(provider, item); err != nil {
		return total, err
	}
	v := newValidator(item, l.today())
	var src source
	switch format {
	case NDJSON:
		src = newNDJSONSource(r, v)
	case CSV:
		s, err := newCSVSource(r, v)
		if err != nil {
			return total, err
		}
		src = s
	default:
		return total, apperr.New(apperr.BadInput, "format %q: must be ndjson or csv", string(format))
	}
	if onReject == nil {
		onReject = func(Rejection) {}
	}
	if onProgress == nil {
		onProgress = func(Progress) {}
	}

	lanes := l.lanesFor(item)
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var rowsRead atomic.Int64
	order := make(chan []Rejection, 4)
	laneIn := make([]chan []prepared, lanes)
	laneOut := make([]chan laneResult, lanes)
	var wg sync.WaitGroup
	for i := range laneIn {
		laneIn[i] = make(chan []prepared, 1)
		laneOut[i] = make(chan laneResult, 2)
		wg.Go(func() { l.runLane(pctx, provider, item, i, laneIn[i], laneOut[i]) })
	}
	readErr := make(chan error, 1)
	wg.Go(func() {
		defer func() {
			close(order)
			for _, c := range laneIn {
				close(c)
			}
		}()
		readErr <- l.produce(pctx, src, lanes, order, laneIn, &rowsRead)
	})

	var mergeErr error
	report := func() {
		total.Rows = int(rowsRead.Load())
		total.Elapsed = time.Since(start)
		onProgress(total)
	}
	ticker := time.NewTicker(progressEvery)
	defer ticker.Stop()
	results := make([]laneResult, lanes)
chunks:
	for {
		var rejected []Rejection
		select {
		case r, ok := <-order:
			if !ok {
				break chunks
			}
			rejected = r
		case <-ticker.C:
			report()
			continue
		}
		for i := range laneOut {
		wait:
			for {
				select {
				case results[i] = <-laneOut[i]:
					break wait
				case <-ticker.C:
					report()
				case <-pctx.Done():
					break chunks
				}
			}
			if results[i].err != nil {
				mergeErr = results[i].err
				cancel()
				break chunks
			}
		}
		for _, r := range results {
			rejected = append(rejected, r.out.rejected...)
			total.Accepted += r.out.accepted
			total.Updated += r.out.updated
			total.Duplicates += r.out.duplicates
		}
		slices.SortStableFunc(rejected, func(a, b Rejection) int { return a.Line - b.Line })
		for _, x := range rejected {
			onReject(x)
		}
		total.Rejected += len(rejected)
	}
	cancel()
	wg.Wait()
	err := <-readErr
	if errors.Is(err, context.Canceled) && pctx.Err() != nil && ctx.Err() == nil {
		err = nil // the reader stopped because a merge failed or the load ended
	}
	total.Rows = int(rowsRead.Load())
	total.Elapsed = time.Since(start)
	switch {
	case mergeErr != nil:
		err = mergeErr
	case ctx.Err() != nil:
		err = fmt.Errorf("%s: %w", describe(provider, item), ctx.Err())
	case err != nil:
		err = fmt.Errorf("%s: %w", describe(provider, item), err)
	}
	onProgress(total)
	rate := 0.0
	if s := total.Elapsed.Seconds(); s > 0 {
		rate = float64(total.Rows) / s
	}
	if err != nil {
		l.log.Warn("ingest: file load stopped", "provider", provider, "item", item, "format", string(format),
			"rows", total.Rows, "accepted", total.Accepted, "updated", total.Updated, "duplicates", total.Duplicates,
			"rejected", total.Rejected, "elapsed", total.Elapsed, "error", err)
		return total, err
	}
	l.log.Info("ingest: file loaded", "provider", provider, "item", item, "format", string(format),
		"rows", total.Rows, "accepted", total.Accepted, "updated", total.Updated, "duplicates", total.Duplicates,
		"rejected", total.Rejected, "elapsed", total.Elapsed, "rows_per_second", int(rate))
	return total, nil
}

// laneResult is the merge of one lane's part of a chunk.
type laneResult struct {
	out outcome
	err error
}

// runLane merges the parts of one lane in order, each in its own transaction.
func (l *Loader) runLane(ctx context.Context, provider, item string, lane int, in <-chan []prepared, out chan<- laneResult) {
	for rows := range in {
		var r laneResult
		if len(rows) > 0 {
			r.out, r.err = l.merge(ctx, provider, item, []int{lane}, [][]prepared{rows})
		}
		select {
		case out <- r:
		case <-ctx.Done():
			return
		}
		if r.err != nil {
			return
		}
	}
}

// produce reads, validates and groups rows into chunks until the source ends. For each chunk
// it sends the rows rejected by validation to order and each lane's rows to that lane, so
// that every lane sees its rows in file order. It returns nil at the end of the file, the
// cancellation cause, or a read error.
func (l *Loader) produce(ctx context.Context, src source, lanes int, order chan<- []Rejection, laneIn []chan []prepared, rowsRead *atomic.Int64) error {
	per := l.chunkSize/lanes + 1
	parts := make([][]prepared, lanes)
	for i := range parts {
		parts[i] = make([]prepared, 0, per)
	}
	var rejected []Rejection
	seen := make(map[string]struct{})
	size, bytesIn := 0, 0
	send := func() error {
		if size == 0 {
			return nil
		}
		select {
		case order <- rejected:
		case <-ctx.Done():
			return ctx.Err()
		}
		for i, c := range laneIn {
			select {
			case c <- parts[i]:
			case <-ctx.Done():
				return ctx.Err()
			}
			parts[i] = make([]prepared, 0, per)
		}
		rejected = nil
		clear(seen)
		size, bytesIn = 0, 0
		return nil
	}
	for n := 0; ; n++ {
		if n%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		p, rej, err := src.next()
		if errors.Is(err, io.EOF) {
			return send()
		}
		if err != nil {
			return err
		}
		rowsRead.Add(1)
		if rej != nil {
			rejected = append(rejected, *rej)
		} else {
			if _, dup := seen[p.sourceID]; dup {
				if err := send(); err != nil {
					return err
				}
			}
			seen[p.sourceID] = struct{}{}
			lane := laneOf(p.sourceID, lanes)
			parts[lane] = append(parts[lane], p)
			bytesIn += len(p.data)
		}
		size++
		if size >= l.chunkSize || bytesIn >= maxChunkBytes {
			if err := send(); err != nil {
				return err
			}
		}
	}
}

// source yields the rows of a file: a prepared row, or a rejection, or io.EOF at the end.
type source interface {
	next() (prepared, *Rejection, error)
}

// ndjsonSource reads one JSON object per line.
type ndjsonSource struct {
	r    *bufio.Reader
	v    *validator
	line int
	buf  []byte
}

func newNDJSONSource(r io.Reader, v *validator) *ndjsonSource {
	return &ndjsonSource{r: bufio.NewReaderSize(r, 256<<10), v: v}
}

var ndjsonFields = []string{"sourceId", "uscc", "occurredOn", "endsOn", "data"}

func (s *ndjsonSource) next() (prepared, *Rejection, error) {
	for {
		line, tooLong, err := s.readLine()
		if err != nil {
			return prepared{}, nil, err
		}
		s.line++
		if s.line == 1 {
			line = bytes.TrimPrefix(line, []byte("\uFEFF"))
		}
		if tooLong {
			return prepared{}, s.reject("", fmt.Sprintf("line longer than %d bytes", maxLineBytes)), nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		return s.parse(line)
	}
}

// readLine returns the next physical line without its line ending. A line longer than
// maxLineBytes is skipped and reported as tooLong. At the end of the input it returns io.EOF.
func (s *ndjsonSource) readLine() (line []byte, tooLong bool, err error) {
	frag, err := s.r.ReadSlice('\n')
	if err == nil {
		return trimEOL(frag), false, nil // valid until the next read
	}
	s.buf = append(s.buf[:0], frag...)
	for errors.Is(err, bufio.ErrBufferFull) {
		frag, err = s.r.ReadSlice('\n')
		if !tooLong && len(s.buf)+len(frag) > maxLineBytes {
			tooLong = true
			s.buf = s.buf[:0]
		}
		if !tooLong {
			s.buf = append(s.buf, frag...)
		}
	}
	switch {
	case err == nil:
		return trimEOL(s.buf), tooLong, nil
	case errors.Is(err, io.EOF):
		if len(s.buf) == 0 && !tooLong {
			return nil, false, io.EOF
		}
		return trimEOL(s.buf), tooLong, nil
	default:
		return nil, false, fmt.Errorf("read line %d: %w", s.line+1, err)
	}
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// reject returns a rejection of the current line. sourceID is copied: it may share memory
// with the decoded line.
func (s *ndjsonSource) reject(sourceID, reason string) *Rejection {
	return &Rejection{Line: s.line, SourceID: strings.Clone(sourceID), Reason: reason}
}

func (s *ndjsonSource) parse(raw []byte) (prepared, *Rejection, error) {
	if !utf8.Valid(raw) {
		return prepared{}, s.reject("", "line is not valid UTF-8 (files must be UTF-8)"), nil
	}
	v, err := decodeJSON(raw)
	if err != nil {
		return prepared{}, s.reject("", "line is not valid JSON: "+jsonErrText(err)), nil
	}
	rec, ok := v.(map[string]any)
	if !ok {
		return prepared{}, s.reject("", "line must be a JSON object, got "+kindOf(v)), nil
	}
	sourceID, _ := rec["sourceId"].(string)
	if unknown := unknownField(rec); unknown != "" {
		return prepared{}, s.reject(sourceID, fmt.Sprintf("unknown field %q (expected %s)", clip(unknown, 40), strings.Join(ndjsonFields, ", "))), nil
	}
	var fields [4]string // sourceId, uscc, occurredOn, endsOn
	for i, key := range ndjsonFields[:len(fields)] {
		switch x := rec[key].(type) {
		case string:
			fields[i] = x
		case nil: // absent or null: the validator reports required fields
		default:
			return prepared{}, s.reject(sourceID, fmt.Sprintf("%s: must be a string, got %s", key, kindOf(x))), nil
		}
	}
	var obj object
	if data := rec["data"]; data != nil {
		m, ok := data.(map[string]any)
		if !ok {
			if _, reason := s.v.scalars(s.line, fields[0], fields[1], fields[2], fields[3]); reason != "" {
				return prepared{}, s.reject(sourceID, reason), nil
			}
			return prepared{}, s.reject(sourceID, "data: must be a JSON object, got "+kindOf(data)), nil
		}
		obj = mapObject(m)
	}
	pr, reason := s.v.fields(s.line, fields[0], fields[1], fields[2], fields[3], obj)
	if reason != "" {
		return prepared{}, s.reject(sourceID, reason), nil
	}
	return pr, nil, nil
}

// unknownField returns the first, in key order, of the fields of rec that an NDJSON line may
// not have, or "" if there is none. Field names are matched exactly.
func unknownField(rec map[string]any) string {
	unknown := ""
	for k := range rec {
		if !slices.Contains(ndjsonFields, k) && (unknown == "" || k < unknown) {
			unknown = k
		}
	}
	return unknown
}

// csvFixed are the first columns of a CSV file, in order.
var csvFixed = []string{"source_id", "uscc", "occurred_on", "ends_on"}

// csvSource reads a CSV file with a header.
type csvSource struct {
	r      *csv.Reader
	v      *validator
	layout *csvLayout
}

func newCSVSource(r io.Reader, v *validator) (*csvSource, error) {
	cr := csv.NewReader(bufio.NewReaderSize(r, 256<<10))
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, apperr.New(apperr.BadInput, "csv: the file is empty; the first line must be the header %s", strings.Join(csvFixed, ","))
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, apperr.New(apperr.BadInput, "csv header (line %d): %v", pe.StartLine, pe.Err)
		}
		return nil, fmt.Errorf("read csv header: %w", err)
	}
	if !validUTF8(header) {
		return nil, apperr.New(apperr.BadInput, "csv header: not valid UTF-8 (files must be UTF-8)")
	}
	cols := make([]string, len(header))
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\uFEFF")
		}
		cols[i] = strings.TrimSpace(h)
	}
	for i, want := range csvFixed {
		if i >= len(cols) {
			return nil, apperr.New(apperr.BadInput, "csv header: column %d must be %s, but the header has only %d columns (it must start with %s)", i+1, want, len(cols), strings.Join(csvFixed, ","))
		}
		if cols[i] != want {
			return nil, apperr.New(apperr.BadInput, "csv header: column %d must be %s, got %q (the header must start with %s)", i+1, want, clip(cols[i], 40), strings.Join(csvFixed, ","))
		}
	}
	keys := cols[len(csvFixed):]
	for i, k := range keys {
		col := len(csvFixed) + i + 1
		switch {
		case k == "":
			return nil, apperr.New(apperr.BadInput, "csv header: column %d has no name; payload columns are named after the payload key", col)
		case slices.Contains(csvFixed, k):
			return nil, apperr.New(apperr.BadInput, "csv header: column %d repeats the column %s", col, k)
		case strings.IndexByte(k, 0) >= 0 || !utf8.ValidString(k):
			return nil, apperr.New(apperr.BadInput, "csv header: column %d has a name with a NUL character", col)
		case slices.Contains(keys[:i], k):
			return nil, apperr.New(apperr.BadInput, "csv header: column %d repeats the payload column %q", col, clip(k, 40))
		}
	}
	cr.FieldsPerRecord = len(cols)
	return &csvSource{r: cr, v: v, layout: newCSVLayout(keys)}, nil
}

func (s *csvSource) next() (prepared, *Rejection, error) {
	rec, err := s.r.Read()
	if errors.Is(err, io.EOF) {
		return prepared{}, nil, io.EOF
	}
	if err != nil {
		var pe *csv.ParseError
		if !errors.As(err, &pe) {
			return prepared{}, nil, fmt.Errorf("read csv: %w", err)
		}
		sourceID := ""
		if len(rec) > 0 {
			sourceID = rec[0]
		}
		reason := "csv: " + pe.Err.Error()
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			reason = fmt.Sprintf("expected %d columns as in the header, got %d", len(s.layout.keys)+len(csvFixed), len(rec))
		}
		return prepared{}, &Rejection{Line: pe.StartLine, SourceID: sourceID, Reason: reason}, nil
	}
	line, _ := s.r.FieldPos(0)
	if !validUTF8(rec) {
		return prepared{}, &Rejection{Line: line, Reason: "line is not valid UTF-8 (files must be UTF-8)"}, nil
	}
	data := csvObject{layout: s.layout, cells: rec[len(csvFixed):]}
	p, reason := s.v.fields(line, rec[0], rec[1], rec[2], rec[3], data)
	if reason != "" {
		return prepared{}, &Rejection{Line: line, SourceID: rec[0], Reason: reason}, nil
	}
	return p, nil, nil
}

// csvLayout maps the payload columns of a CSV file to payload keys.
type csvLayout struct {
	keys   []string       // payload keys, in header order
	sorted []int          // positions in keys, by key
	quoted [][]byte       // each key as a JSON string followed by ':'
	index  map[string]int // key → position
}

func newCSVLayout(keys []string) *csvLayout {
	l := &csvLayout{keys: keys, index: make(map[string]int, len(keys))}
	for i, k := range keys {
		l.index[k] = i
		l.sorted = append(l.sorted, i)
		l.quoted = append(l.quoted, append(appendString(nil, k), ':'))
	}
	slices.SortFunc(l.sorted, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
	return l
}

// csvObject is the payload of one CSV row: empty cells are absent, cells in JSON number
// syntax are numbers, the others strings.
type csvObject struct {
	layout *csvLayout
	cells  []string // payload cells, in header order
}

func (o csvObject) field(key string) (any, bool) {
	i, ok := o.layout.index[key]
	if !ok || o.cells[i] == "" {
		return nil, false
	}
	return cellValue(o.cells[i]), true
}

func cellValue(cell string) any {
	if jsonnum.Valid(cell) {
		return json.Number(cell)
	}
	return cell
}

func (o csvObject) appendJSON(dst []byte, canonical bool) ([]byte, bool, *fieldError) {
	dst = append(dst, '{')
	first, differs := true, false
	for _, i := range o.layout.sorted {
		cell := o.cells[i]
		if cell == "" {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, o.layout.quoted[i]...)
		var d bool
		var err *fieldError
		if jsonnum.Valid(cell) {
			dst, d, err = appendNumber(dst, cell, canonical)
		} else {
			dst, d, err = appendText(dst, cell)
		}
		if err != nil {
			return dst, false, err.under("." + o.layout.keys[i])
		}
		differs = differs || d
	}
	return append(dst, '}'), differs, nil
}
