import java.util.PriorityQueue;

/** Runs jobs in order of priority; lower numbers run first. */
public class Scheduler {
    record Job(String name, int priority) {}

    private final PriorityQueue<Job> queue =
        new PriorityQueue<>((a, b) -> Integer.compare(a.priority(), b.priority()));

    public void submit(String name, int priority) {
        queue.add(new Job(name, priority));
    }

    public void runAll() {
        while (!queue.isEmpty()) {
            Job job = queue.poll();
            System.out.println("running " + job.name());
        }
    }

    public static void main(String[] args) {
        Scheduler s = new Scheduler();
        s.submit("send invoices", 2);
        s.submit("rotate logs", 5);
        s.submit("charge cards", 1);
        s.runAll();
    }
}
