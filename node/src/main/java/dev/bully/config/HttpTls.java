package dev.bully.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * TLS for the HTTP API and the dashboard ({@code http.tls.*}): a key store (PKCS#12 or JKS) with its
 * password, or a PEM certificate chain and private key. Clients verify the server; the server asks
 * clients for no certificate (writes and reads can require {@code api.token}).
 *
 * @param keyStore         a PKCS#12 or JKS key store holding the server's key and certificate
 * @param keyStorePassword its password
 * @param certPath         PEM certificate chain of this node's HTTP server
 * @param keyPath          PEM private key of this node's HTTP server
 */
public record HttpTls(Optional<Path> keyStore, Optional<String> keyStorePassword, Optional<Path> certPath,
                      Optional<Path> keyPath) {
}
