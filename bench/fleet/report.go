package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// printResult writes the human summary.
func printResult(w io.Writer, r *Result) {
	o := r.Ours
	fmt.Fprintf(w, "\nfleet benchmark: %d devices × %d bytes in %d-byte blocks, %d CPUs, load average %s before, %s after\n\n",
		r.Devices, r.ImageSize, r.BlockSize, r.CPUs, r.LoadBefore, r.LoadAfter)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\tMB/s\twall\tp50\tp99\tpeak RSS\tserver CPU\tMB/server-CPU-s\tclient CPU")
	if o != nil {
		fmt.Fprintf(tw, "otactl local (download)\t%.1f\t%s\t%s\t%s\t%.0f MiB\t%s\t%.0f\t%s\n", o.DownloadMBps, d(o.Download),
			d(o.Fleet.P50), d(o.Fleet.P99), o.PeakRSSMiB, d(o.ServerCPU), o.MBPerCPUSecond, d(o.ClientCPU))
		fmt.Fprintf(tw, "otactl local (whole fleet run)\t%.1f\t%s\t\t\t\t\t\t\n", o.Fleet.MBps, d(o.Fleet.Elapsed))
	}
	if b := r.Baseline; b != nil {
		fmt.Fprintf(tw, "%s (relay)\t%.1f\t%s\t%s\t%s\t%.0f MiB\t%s\t%.0f\t%s\n", b.Broker, b.MBps, d(b.Elapsed),
			d(b.P50), d(b.P99), b.PeakRSSMiB, d(b.ServerCPU), b.MBPerCPUSecond, d(b.ClientCPU))
	}
	tw.Flush()
	if o == nil {
		return
	}
	fmt.Fprintf(w, "\nours: %d/%d devices succeeded, %d executions, %d re-requests, %d reconnects; seeding %s, create %s; sampled RSS peak %.0f MiB\n",
		o.Fleet.Succeeded, o.Fleet.Devices, o.Fleet.Executions, o.Fleet.Rerequests, o.Fleet.Reconnects, d(o.Seed), d(o.Create), o.SampledRSSMiB)
	if b := r.Baseline; b != nil {
		fmt.Fprintf(w, "baseline: %d subscribers (connected in %s), %d publishers, %d messages each in windows of %d\n",
			b.Subscribers, d(b.Connect), b.Publishers, b.Messages, b.Window)
		fmt.Fprintf(w, "\nratio ours/mosquitto: %.0f%% (download phase; target ≥ %.0f%%: %s), %.0f%% over our whole fleet run\n",
			r.Ratio*100, targetRatio*100, verdict(r.RatioOK), r.RatioEndToEnd*100)
		fmt.Fprintf(w, "payload per server CPU second ours/mosquitto: %.0f%% (target ≥ %.0f%%: %s; the figure other load on the machine changes least)\n",
			r.RatioCPU*100, targetCPURatio*100, verdict(r.RatioCPUOK))
	} else {
		fmt.Fprintf(w, "\nNO BASELINE (%s): no ratio\n", r.BaselineSkipped)
	}
	if len(r.Rounds) > 1 {
		fmt.Fprintln(w, "rounds (the round with the median rate ratio is shown above):")
		for i, rd := range r.Rounds {
			if rd.Baseline != nil && rd.Ours != nil {
				fmt.Fprintf(w, "  %d: ours %.1f MB/s / mosquitto %.1f MB/s = %.0f%%; per server CPU second %.0f/%.0f MB = %.0f%%; load %s\n",
					i+1, rd.Ours.DownloadMBps, rd.Baseline.MBps, rd.Ratio*100,
					rd.Ours.MBPerCPUSecond, rd.Baseline.MBPerCPUSecond, rd.RatioCPU*100, rd.Load)
			}
		}
		lo, hi := spread(r.Rounds, func(rd Round) float64 { return rd.Ratio })
		clo, chi := spread(r.Rounds, func(rd Round) float64 { return rd.RatioCPU })
		fmt.Fprintf(w, "spread over %d rounds: rate ratio %.0f–%.0f%%, CPU ratio %.0f–%.0f%%\n", len(r.Rounds), lo*100, hi*100, clo*100, chi*100)
	}
	fmt.Fprintf(w, "peak server RSS: %.0f MiB (target ≤ %d MiB: %s)\n", r.PeakRSSMiB, targetRSSMiB, verdict(r.RSSOK))
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func d(x time.Duration) string {
	if x >= time.Second {
		return x.Round(10 * time.Millisecond).String()
	}
	return x.Round(100 * time.Microsecond).String()
}

// spread is the lowest and highest of f over the rounds that have both.
func spread(rounds []Round, f func(Round) float64) (lo, hi float64) {
	first := true
	for _, rd := range rounds {
		if rd.Baseline == nil || rd.Ours == nil {
			continue
		}
		v := f(rd)
		if first || v < lo {
			lo = v
		}
		if first || v > hi {
			hi = v
		}
		first = false
	}
	return lo, hi
}
