#!/usr/bin/env python3
"""Whole-process A/B with per-command environment: wall, CPU (user+sys from wait4) and user CPU alone per run, commands alternated with the
order reversed every round after one warm-up round; prints medians and the median [p25-p75] of per-round ratios to the first.

Usage: benchmarks/abenv.py ROUNDS NAME=ENV:CMD ...   ENV is K=V[,K=V...] or - ; run it under chrt -f 50 (benchmarks/README.md).
Example: chrt -f 50 benchmarks/abenv.py 16 "raw=-:dotnet H.dll daemon-exit 5000 raw" "big=DOTNET_GCgen0size=0x10000000:dotnet H.dll daemon-exit 5000 dt"
"""
import os,subprocess,sys,statistics,time
rounds=int(sys.argv[1]); specs=[]
for a in sys.argv[2:]:
    name,rest=a.split('=',1); env,cmd=rest.split(':',1)
    e=dict(os.environ)
    if env!='-':
        for kv in env.split(','): k,v=kv.split('=',1); e[k]=v
    specs.append((name,e,cmd.split()))
res={n:[] for n,_,_ in specs}
for r in range(rounds+1):
    order=list(range(len(specs)))
    if r%2: order.reverse()
    for i in order:
        n,e,c=specs[i]
        t0=time.perf_counter(); p=subprocess.Popen(c,env=e,stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL); _,st,ru=os.wait4(p.pid,0)
        w=(time.perf_counter()-t0)*1000; cpu=(ru.ru_utime+ru.ru_stime)*1000
        if r>0: res[n].append((w,cpu,ru.ru_utime*1000))
base=specs[0][0]
for n,_,_ in specs:
    rw=sorted(a[0]/b[0] for a,b in zip(res[n],res[base])); rc=sorted(a[1]/b[1] for a,b in zip(res[n],res[base]))
    ru=sorted(a[2]/max(b[2],0.001) for a,b in zip(res[n],res[base]))
    print(f"{n:12s} wall {statistics.median([x[0] for x in res[n]]):7.1f} cpu {statistics.median([x[1] for x in res[n]]):7.1f} user {statistics.median([x[2] for x in res[n]]):7.1f}  wall x{statistics.median(rw):.3f} [{rw[len(rw)//4]:.3f}-{rw[3*len(rw)//4]:.3f}] cpu x{statistics.median(rc):.3f} [{rc[len(rc)//4]:.3f}-{rc[3*len(rc)//4]:.3f}] user x{statistics.median(ru):.3f}")
