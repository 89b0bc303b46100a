// The ofdrw side of scripts/load/verify-compare.sh: ofdrw's own signature verification
// (OFDValidator with SESV4ValidateContainer, ofdrw-sign) of each file, timed in a warm JVM.
// Built against an ofdrw build outside the repository (docs/interop.md, "ofdrw-converter 2.4.0").
//
//   java -cp CLASSES:JARS OfdrwVerify WARMUP RUNS FILE.ofd...
//
// One line per file: "ofdrw NAME median_ms=… mean_ms=… min_ms=… n=…"; a file that does not
// verify stops the run with ofdrw's exception.

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import org.ofdrw.reader.OFDReader;
import org.ofdrw.sign.verify.OFDValidator;
import org.ofdrw.sign.verify.container.SESV4ValidateContainer;

public class OfdrwVerify {
    static void verifyOnce(Path p) throws Exception {
        try (OFDReader reader = new OFDReader(p);
             OFDValidator v = new OFDValidator(reader)) {
            v.setValidator(new SESV4ValidateContainer());
            v.exeValidate();
        }
    }

    public static void main(String[] a) throws Exception {
        int warm = Integer.parseInt(a[0]);
        int runs = Integer.parseInt(a[1]);
        for (int f = 2; f < a.length; f++) {
            Path p = Paths.get(a[f]);
            for (int i = 0; i < warm; i++) {
                verifyOnce(p);
            }
            long[] t = new long[runs];
            for (int i = 0; i < runs; i++) {
                long s = System.nanoTime();
                verifyOnce(p);
                t[i] = System.nanoTime() - s;
            }
            Arrays.sort(t);
            double sum = 0;
            for (long x : t) {
                sum += x;
            }
            System.out.printf("ofdrw %s median_ms=%.3f mean_ms=%.3f min_ms=%.3f n=%d%n",
                    p.getFileName(), t[runs / 2] / 1e6, sum / runs / 1e6, t[0] / 1e6, runs);
        }
    }
}
