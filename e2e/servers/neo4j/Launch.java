// Starts Neo4j Community 5.26 (from neo4j-harness's classpath, see pom.xml) with Bolt on
// 127.0.0.1:PORT and its store under HOME, then waits until it is told to stop (SIGTERM).
//
// Usage: java -cp "$(cat cp.txt)" Launch.java PORT HOME
// With POLYGATE_NEO4J_PASSWORD set, authentication is on and the user `neo4j` signs in with that
// password (set through the embedded API, which needs no sign-in); otherwise authentication is off.
//
// Non-obvious: it uses the embedded DatabaseManagementServiceBuilder rather than the harness's
// builder, because the harness keeps its store in a fresh random folder that it deletes on close,
// and the org subgraph's failover test restarts the server mid-test on the same data: here a
// restart on the same HOME finds the graph, constraints and indexes it left.

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.QueryExecutionException;
import org.neo4j.io.ByteUnit;

public class Launch {
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: Launch PORT HOME");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        Path home = Path.of(args[1]).toAbsolutePath();
        String password = System.getenv("POLYGATE_NEO4J_PASSWORD");
        boolean auth = password != null && !password.isEmpty();
        DatabaseManagementService service = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", port))
                .setConfig(GraphDatabaseSettings.auth_enabled, auth)
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(512))
                .setConfig(GraphDatabaseSettings.transaction_timeout, Duration.ofSeconds(60))
                .build();
        // Waits for the default database before saying it is up, so a client never races it,
        // and warms the Cypher planner (a cold JVM plans the first traversal queries in seconds,
        // more than a client's call timeout on a busy machine): read-only queries of the shapes
        // the org subgraph uses, on ids that do not exist.
        if (auth) {
            try {
                service.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME).executeTransactionally(
                        "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED",
                        Map.of("password", password));
            } catch (QueryExecutionException e) {
                // A store left by a run that was killed before `stop` (or a restart) already has
                // this password, and Neo4j refuses to set a password to itself.
                if (!String.valueOf(e.getMessage()).contains("Old password and new password cannot be the same")) {
                    throw e;
                }
            }
        }
        var db = service.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
        String[] warmUp = {
            "RETURN 1",
            "UNWIND ['-', '--'] AS id MATCH (e:Employee {id: id})-[r:MEMBER_OF]->(d:Department) "
                + "RETURN e {.id, .name, department: d.id, role: r.role} AS employee",
            "MATCH p = (:Employee {id: '-'})<-[:REPORTS_TO]-{1,64}(e:Employee) WITH e, length(p) AS depth "
                + "MATCH (e)-[r:MEMBER_OF]->(d:Department) RETURN e {.id}, depth ORDER BY depth, e.id LIMIT 10",
            "MATCH p = (:Employee {id: '-'})-[:REPORTS_TO]->{1,64}(e:Employee) RETURN e.id ORDER BY length(p)",
            "MATCH p = (:Department {id: '-'})<-[:PART_OF]-{0,64}(d:Department) "
                + "RETURN d.id, length(p), COUNT { (d)<-[:MEMBER_OF]-() } AS members",
        };
        for (int round = 0; round < 3; round++) {
            for (String query : warmUp) {
                db.executeTransactionally(query);
            }
        }
        Runtime.getRuntime().addShutdownHook(new Thread(service::shutdown));
        System.out.println("bolt://127.0.0.1:" + port);
        System.out.flush();
        Thread.currentThread().join();
    }
}
