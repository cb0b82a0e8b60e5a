/** Java peer of the short program: start and join one thread, print ok (benchmarks/startup/run.sh). */
public final class Startup {
    private static volatile boolean ran;

    public static void main(String[] args) throws InterruptedException {
        Thread t = new Thread(() -> ran = true);
        t.start();
        t.join();
        System.out.print(ran ? "ok\n" : "not run\n");
    }
}
