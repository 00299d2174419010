package dev.bully.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Throwaway TLS material for the integration tests, made by the JDK's keytool. */
final class TestKeyStores {
  private TestKeyStores() {
  }

  /**
   * A PKCS#12 key store at {@code file} with one fresh self-signed EC key and certificate for
   * 127.0.0.1 and localhost, valid two days, its store and key protected by {@code password}.
   */
  static Path selfSigned(Path file, String password) throws Exception {
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    Process process = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "node", "-keyalg", "EC",
        "-groupname", "secp256r1", "-dname", "CN=localhost", "-ext", "san=ip:127.0.0.1,dns:localhost", "-validity", "2",
        "-storetype", "PKCS12", "-keystore", file.toString(), "-storepass", password, "-keypass", password)
        .redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    assertTrue(process.waitFor(60, TimeUnit.SECONDS) && process.exitValue() == 0, "keytool: " + output);
    return file;
  }
}
