// One OpenSearch node for the tests: loopback, given ports, path.repo and data under a private folder; runs until killed.
import org.codelibs.opensearch.runner.OpenSearchRunner;

public final class OneNode {
  public static void main(String[] args) throws Exception {
    if (args.length != 5) throw new IllegalArgumentException("usage: OneNode <base dir> <http port> <transport port> <path.repo> <cluster name>");
    String base = args[0];
    String httpPort = args[1];
    String transportPort = args[2];
    String repo = args[3];
    OpenSearchRunner runner = new OpenSearchRunner();
    runner.setMaxHttpPort(65535);
    runner.onBuild((number, settings) -> {
      settings.put("network.host", "127.0.0.1");
      settings.put("http.port", httpPort);
      settings.put("transport.port", transportPort);
      settings.put("path.repo", repo);
      // Elects itself at once and never looks for peers on other local ports.
      settings.put("discovery.type", "single-node");
      settings.put("cluster.routing.allocation.disk.threshold_enabled", "false");
    });
    runner.build(OpenSearchRunner.newConfigs().basePath(base).numOfNode(1).baseHttpPort(Integer.parseInt(httpPort) - 1).clusterName(args[4]).disableESLogger());
    runner.ensureYellow();
    System.out.println("rebound-opensearch-ready http=" + httpPort);
    Thread.currentThread().join();
  }
}
