package ingest

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

func benchLines(n int, ndjson bool) string {
	var sb strings.Builder
	c, _ := func() (string, error) { return "91330100000000017" + "X", nil }()
	_ = c
	if !ndjson {
		sb.WriteString("source_id,uscc,occurred_on,ends_on,severity,decision_no,authority,reason,amount\n")
	}
	for i := 0; i < n; i++ {
		code := codeFor(i % 20000)
		if ndjson {
			fmt.Fprintf(&sb, `{"data":{"amount":%d,"authority":"杭州市市场监督管理局","decision_no":"杭市监罚〔2024〕%d号","reason":"未按规定公示年度报告","severity":"minor"},"occurredOn":"2024-01-02","sourceId":"PEN-%09d","uscc":"%s"}`+"\n", i*7, i, i, code)
		} else {
			fmt.Fprintf(&sb, "PEN-%09d,%s,2024-01-02,,minor,杭市监罚〔2024〕%d号,杭州市市场监督管理局,未按规定公示年度报告,%d\n", i, code, i, i*7)
		}
	}
	return sb.String()
}

var codeCache = map[int]string{}

func codeFor(i int) string {
	if c, ok := codeCache[i]; ok {
		return c
	}
	c := code(nil, i+1)
	codeCache[i] = c
	return c
}

func BenchmarkSources(b *testing.B) {
	for _, nd := range []bool{true, false} {
		data := benchLines(100000, nd)
		b.Run(fmt.Sprint("ndjson=", nd), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				v := newValidator("admin.penalty", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
				var src source
				if nd {
					src = newNDJSONSource(strings.NewReader(data), v)
				} else {
					src, _ = newCSVSource(strings.NewReader(data), v)
				}
				n := 0
				for {
					_, rej, err := src.next()
					if err == io.EOF {
						break
					}
					if rej != nil {
						b.Fatal(rej)
					}
					n++
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100000), "ns/row")
		})
	}
}
