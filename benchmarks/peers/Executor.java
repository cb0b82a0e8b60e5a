import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Executor submit + completion, Java peer of dotnet/ExecutorTwin: Executors.newFixedThreadPool with CPython's default
 * size min(32, cores + 4). usage: java Executor N. Prints us per item as executor.py does.
 */
public final class Executor {
    private static final Runnable EMPTY = () -> { };

    private static double batch(ExecutorService pool, int n, int submitters) throws Exception {
        int share = n / submitters;
        CyclicBarrier go = new CyclicBarrier(submitters + 1);
        Thread[] threads = new Thread[submitters];
        for (int s = 0; s < submitters; s++) {
            threads[s] = new Thread(() -> {
                try {
                    go.await();
                    List<Future<?>> futures = new ArrayList<>(share);
                    for (int i = 0; i < share; i++) {
                        futures.add(pool.submit(EMPTY));
                    }
                    for (Future<?> f : futures) {
                        f.get();
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            threads[s].start();
        }
        go.await();
        long start = System.nanoTime();
        for (Thread t : threads) {
            t.join();
        }
        return (System.nanoTime() - start) / 1000.0 / (share * submitters);
    }

    private static double latency(ExecutorService pool, int n) throws Exception {
        double[] samples = new double[n];
        for (int i = 0; i < n; i++) {
            long start = System.nanoTime();
            pool.submit(EMPTY).get();
            samples[i] = (System.nanoTime() - start) / 1000.0;
        }
        Arrays.sort(samples);
        return samples[n / 2];
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 20000;
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(32, Runtime.getRuntime().availableProcessors() + 4));
        batch(pool, n / 10, 1);
        batch(pool, n / 10, 8);
        latency(pool, n / 100);
        Thread.sleep(200);
        double t1 = batch(pool, n, 1), t8 = batch(pool, n, 8), lat = latency(pool, n / 10);
        pool.shutdown();
        System.out.printf("executor java tput1_us=%.2f tput8_us=%.2f latency_us=%.2f%n", t1, t8, lat);
    }
}
