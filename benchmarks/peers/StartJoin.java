import java.util.Arrays;

/** Start + join of an empty platform thread, median per thread (Java peer of ExitHarness 'startjoin'). */
public final class StartJoin {
    private StartJoin() {
    }

    private static void once(boolean daemon) throws InterruptedException {
        Thread t = new Thread(() -> { });
        t.setDaemon(daemon);
        t.start();
        t.join();
    }

    public static void main(String[] args) throws InterruptedException {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 20000;
        boolean daemon = args.length > 1 && args[1].equals("daemon");
        for (int i = 0; i < Math.max(1, n / 10); i++) { // warm up with a tenth of the work
            once(daemon);
        }
        Thread.sleep(200);
        double[] samples = new double[n];
        for (int i = 0; i < n; i++) {
            long start = System.nanoTime();
            once(daemon);
            samples[i] = (System.nanoTime() - start) / 1000.0;
        }
        Arrays.sort(samples);
        System.out.printf(java.util.Locale.ROOT, "startjoin java n=%d median_us=%.1f p10_us=%.1f p90_us=%.1f%n",
            n, samples[n / 2], samples[n / 10], samples[n * 9 / 10]);
    }
}
