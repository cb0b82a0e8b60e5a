"""CPython peer of the short program: start and join one thread, print ok (benchmarks/startup/run.sh)."""
import threading

ran = []
t = threading.Thread(target=lambda: ran.append(1))
t.start()
t.join()
print("ok" if ran else "not run")
