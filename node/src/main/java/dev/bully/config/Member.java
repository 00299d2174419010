package dev.bully.config;

/**
 * One configured cluster member as every node sees it: the id that orders the Bully election,
 * and the addresses other nodes and clients use to reach it.
 *
 * @param id          the node id; higher ids win elections among up-to-date nodes
 * @param host        the address that clients and peers use for this node's HTTP API
 * @param httpPort    the HTTP port (redirects to the coordinator point here)
 * @param clusterPort the cluster manager (Hazelcast) port, used to build the default join list
 * @param https       whether the cluster's HTTP APIs are served over TLS ({@code http.tls.enabled}, the same on
 *                    every node), so that redirects and the dashboard's links use https
 */
public record Member(int id, String host, int httpPort, int clusterPort, boolean https) {

  /** The {@code host:port} of this member's cluster manager. */
  public String clusterAddress() {
    return host + ":" + clusterPort;
  }

  /** The base URL of this member's HTTP API. */
  public String httpUrl() {
    return (https ? "https://" : "http://") + host + ":" + httpPort;
  }
}
