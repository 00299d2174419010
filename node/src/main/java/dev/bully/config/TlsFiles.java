package dev.bully.config;

import io.vertx.core.net.JksOptions;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.KeyStoreOptionsBase;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.PfxOptions;
import io.vertx.core.net.TrustOptions;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A node's TLS material, for the clustered event bus ({@code eventBus.tls.*}, mutual: the node
 * presents its certificate and trusts only peers its trust material vouches for) or for the HTTP
 * API ({@code http.tls.*}: the server's key and certificate only). Either a key store (PKCS#12 or
 * JKS, holding the key and, for the event bus, the certificates it trusts) or PEM files.
 *
 * @param keyStore         a PKCS#12 or JKS key store, used for the key and the trust
 * @param keyStorePassword its password
 * @param certPath         PEM certificate chain of this node
 * @param keyPath          PEM private key of this node
 * @param caPath           PEM certificates this node trusts for its peers (the event bus only)
 */
public record TlsFiles(Optional<Path> keyStore, Optional<String> keyStorePassword, Optional<Path> certPath,
                       Optional<Path> keyPath, Optional<Path> caPath) {

  /**
   * This node's key and certificate. The typed options, not KeyStoreOptions: the event bus copies
   * its options through JSON, which keeps only these.
   */
  public KeyCertOptions keyCertOptions() {
    if (keyStore.isPresent()) {
      return store();
    }
    return new PemKeyCertOptions().setCertPath(certPath.orElseThrow().toString()).setKeyPath(keyPath.orElseThrow().toString());
  }

  /** The certificates this node trusts for its peers: the key store's, or the PEM CA file's. */
  public TrustOptions trustOptions() {
    if (keyStore.isPresent()) {
      return store();
    }
    return new PemTrustOptions().addCertPath(caPath.orElseThrow().toString());
  }

  private KeyStoreOptionsBase store() {
    String path = keyStore.orElseThrow().toString();
    String password = keyStorePassword.orElseThrow();
    return path.endsWith(".jks") ? new JksOptions().setPath(path).setPassword(password)
        : new PfxOptions().setPath(path).setPassword(password);
  }
}
