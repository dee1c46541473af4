package dashboard

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// chart is one small live line chart of the Engine page.
type chart struct {
	Title string
	Unit  string
	// Slots is the width of the time window in points; the newest point is
	// at the right edge, so charts scroll as samples arrive.
	Slots  int
	Series []series
}

// series is one line; NaN points are gaps (no calls to measure, say).
type series struct {
	Name   string
	Points []float64
	Dashed bool
}

// Chart geometry, in SVG user units; CSS scales it to the card.
const (
	chartW    = 300.0
	chartH    = 90.0
	chartPadT = 6.0
	chartPadB = 4.0
)

// svg draws the chart: a frame, a gridline at half height, one polyline
// per series, and the y-axis top value as text. The legend with each
// series' latest value is HTML next to it, so it stays legible at any
// size and carries the numbers for screen readers too.
func (c chart) svg() template.HTML {
	top := niceCeil(c.maxValue())
	var b strings.Builder
	fmt.Fprintf(&b, `<figure class="chart"><figcaption><span class="ctitle">%s</span>`, html.EscapeString(c.Title))
	var alt []string
	for i, s := range c.Series {
		last := lastValue(s.Points)
		fmt.Fprintf(&b, ` <span class="leg s%d">%s <b>%s</b></span>`, i, html.EscapeString(s.Name), html.EscapeString(formatValue(last, c.Unit)))
		alt = append(alt, s.Name+" "+formatValue(last, c.Unit))
	}
	fmt.Fprintf(&b, `</figcaption><div class="plot"><svg viewBox="0 0 %g %g" role="img" aria-label="%s" preserveAspectRatio="none">`,
		chartW, chartH, html.EscapeString(c.Title+": "+strings.Join(alt, ", ")))
	fmt.Fprintf(&b, `<line class="grid" x1="0" y1="%g" x2="%g" y2="%g"/>`, y(top/2, top), chartW, y(top/2, top))
	fmt.Fprintf(&b, `<line class="axis" x1="0" y1="%g" x2="%g" y2="%g"/>`, y(0, top), chartW, y(0, top))
	for i, s := range c.Series {
		d := c.path(s.Points, top)
		if d == "" {
			continue
		}
		class := fmt.Sprintf("s%d", i)
		if s.Dashed {
			class += " dashed"
		}
		fmt.Fprintf(&b, `<path class="%s" d="%s"/>`, class, d)
	}
	fmt.Fprintf(&b, `</svg><span class="ymax">%s</span></div></figure>`, html.EscapeString(formatValue(top, c.Unit)))
	return template.HTML(b.String())
}

func (c chart) maxValue() float64 {
	m := 0.0
	for _, s := range c.Series {
		for _, v := range s.Points {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				m = max(m, v)
			}
		}
	}
	return m
}

// path is an SVG path through the points, broken at gaps; a lone point
// between gaps is drawn as a short tick so it is not lost.
func (c chart) path(points []float64, top float64) string {
	slots := max(c.Slots, len(points), 2)
	offset := slots - len(points)
	var b strings.Builder
	pen := false
	for i, v := range points {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			pen = false
			continue
		}
		px := chartW * float64(offset+i) / float64(slots-1)
		py := y(v, top)
		if !pen {
			fmt.Fprintf(&b, "M%s %s", num(px), num(py))
			if i+1 >= len(points) || math.IsNaN(points[i+1]) {
				fmt.Fprintf(&b, "h1")
			}
			pen = true
			continue
		}
		fmt.Fprintf(&b, "L%s %s", num(px), num(py))
	}
	return b.String()
}

// y maps a value to the SVG's y axis (0 at the bottom).
func y(v, top float64) float64 {
	if top <= 0 {
		top = 1
	}
	return chartPadT + (chartH-chartPadT-chartPadB)*(1-v/top)
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// niceCeil rounds a chart's top up to 1, 2 or 5 times a power of ten, so
// the axis reads as a round number.
func niceCeil(v float64) float64 {
	if v <= 0 || math.IsNaN(v) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func lastValue(points []float64) float64 {
	if len(points) == 0 {
		return math.NaN()
	}
	return points[len(points)-1]
}

// formatValue prints a figure with two or three significant digits.
func formatValue(v float64, unit string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	var s string
	switch a := math.Abs(v); {
	case a == 0:
		s = "0"
	case a >= 100:
		s = strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		s = strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 0.01:
		s = strconv.FormatFloat(v, 'f', 2, 64)
	default:
		s = strconv.FormatFloat(v, 'g', 2, 64)
	}
	if strings.Contains(s, ".") && !strings.ContainsAny(s, "e") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if unit == "" {
		return s
	}
	return s + " " + unit
}
