package dev.bully.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * TLS for the clustered event bus, where every protocol message and log entry travels: each node
 * presents its key and certificate and accepts only peers whose certificate its trust material
 * vouches for (mutual TLS). Either a key store (PKCS#12 or JKS, holding the node's key and the
 * certificates it trusts) or PEM files (certificate, private key, and the CA certificates to trust).
 *
 * @param keyStore         a PKCS#12 or JKS key store, used for both the key and the trust
 * @param keyStorePassword its password
 * @param certPath         PEM certificate chain of this node
 * @param keyPath          PEM private key of this node
 * @param caPath           PEM certificates this node trusts for its peers
 */
public record EventBusTls(Optional<Path> keyStore, Optional<String> keyStorePassword, Optional<Path> certPath,
                          Optional<Path> keyPath, Optional<Path> caPath) {
}
