import CCurl
import CCurlShim
import Foundation

/// One curl multi handle driven by Dispatch, and feedspool's own queue of
/// transfers waiting for a slot (globally and per host).
///
/// `@unchecked Sendable` because every stored property is touched only on
/// `queue`: public entry points hop onto it, curl's callbacks run inside curl
/// calls made on it, and Dispatch sources target it.
final class TransferEngine: @unchecked Sendable {
    let queue = DispatchQueue(label: "feedspool.fetch.curl")
    private let settings: FetchSettings
    private var multi: UnsafeMutableRawPointer?
    private var transfers: [UnsafeMutableRawPointer: Transfer] = [:]
    private var timer: DispatchSourceTimer?
    /// When curl wants its timeout run: nil when it wants none.
    private var timeoutWanted: DispatchTime?
    /// When `timer` fires: nil when it is not set.
    private var timerArmed: DispatchTime?

    private struct Waiting {
        let request: FetchRequest
        let host: String
        let callbackQueue: DispatchQueue
        let completion: @Sendable (Result<FetchResponse, FetchError>) -> Void
    }

    /// A first-in first-out list that removes from the front in constant time.
    private struct Line {
        var items: [Waiting] = []
        var head = 0
        var isEmpty: Bool { head == items.count }
        mutating func append(_ w: Waiting) { items.append(w) }
        mutating func removeFirst() -> Waiting {
            let w = items[head]
            head += 1
            if head > 64 && head * 2 > items.count {  // drop what was taken, now and then
                items.removeFirst(head)
                head = 0
            }
            return w
        }
        var remaining: ArraySlice<Waiting> { items[head...] }
    }

    /// Waiting transfers by host, and the hosts that have some, in turn.
    private var waiting: [String: Line] = [:]
    private var waitingHosts: [String] = []
    private var activePerHost: [String: Int] = [:]
    private var lastStartPerHost: [String: DispatchTime] = [:]
    private var spacingTimer: DispatchSourceTimer?
    private var spacingTimerDeadline: DispatchTime?
    /// Why the engine could not start, if it could not: every submission fails with it.
    private var startFailure: String?

    /// curl's sockets, in one epoll set that one Dispatch read source watches: a
    /// single source for all of them, so the events of many sockets are handled in
    /// one turn of the queue, and curl changing what it wants of a socket is one
    /// `epoll_ctl`, not a trip through libdispatch's manager thread.
    private var pollSet: Int32 = -1
    private var pollSource: DispatchSourceRead?
    private var watched: [Int32: Watch] = [:]
    /// How many times the set's source fired (tests read it: an idle socket the
    /// server closed must leave the set, not make it fire without end).
    private(set) var readyTurns = 0
    /// What a socket is registered for in the set (a CURL_POLL value), and whether curl still wants it.
    private struct Watch {
        var registered: Int32
        var wanted: Bool
    }
    /// Ready sockets and their CURL_CSELECT masks, filled by `fs_epoll_ready`.
    private let readySockets = UnsafeMutablePointer<Int32>.allocate(capacity: 64)
    private let readyMasks = UnsafeMutablePointer<Int32>.allocate(capacity: 64)

    init(settings: FetchSettings) {
        self.settings = settings
        queue.sync { setUp() }
    }

    deinit {
        readySockets.deallocate()
        readyMasks.deallocate()
    }

    private func setUp() {
        dispatchPrecondition(condition: .onQueue(queue))
        guard let m = curl_multi_init() else {
            startFailure = "the fetcher could not start: curl_multi_init failed"
            return
        }
        multi = m
        let me = Unmanaged.passUnretained(self).toOpaque()
        fs_multi_setopt_socket_callback(m) { _, socket, what, user, _ in
            Unmanaged<TransferEngine>.fromOpaque(user!).takeUnretainedValue().watch(socket, what: what)
            return 0
        }
        fs_multi_setopt_pointer(m, CURLMOPT_SOCKETDATA, me)
        fs_multi_setopt_timer_callback(m) { _, milliseconds, user in
            Unmanaged<TransferEngine>.fromOpaque(user!).takeUnretainedValue().armTimer(milliseconds)
            return 0
        }
        fs_multi_setopt_pointer(m, CURLMOPT_TIMERDATA, me)
        fs_multi_setopt_long(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, settings.concurrency)
        pollSet = fs_epoll_open()
        guard pollSet >= 0 else {
            startFailure = "the fetcher could not start: epoll_create1: \(String(cString: strerror(errno))) (the open-file limit?)"
            curl_multi_cleanup(m)
            multi = nil
            return
        }
        let set = pollSet
        let source = DispatchSource.makeReadSource(fileDescriptor: set, queue: queue)
        source.setEventHandler { [weak self] in self?.socketsReady() }
        source.setCancelHandler { close(set) }
        source.activate()
        pollSource = source
        let t = DispatchSource.makeTimerSource(queue: queue)
        t.setEventHandler { [weak self] in self?.timerFired() }
        t.schedule(deadline: .distantFuture)
        t.resume()
        timer = t
    }

    // MARK: submitting

    func submit(
        _ request: FetchRequest, callbackQueue: DispatchQueue,
        completion: @escaping @Sendable (Result<FetchResponse, FetchError>) -> Void
    ) {
        queue.async { [self] in
            guard multi != nil else {
                let failure: FetchError =
                    startFailure.map { .transport(url: request.url, code: -1, reason: $0) } ?? .cancelled(url: request.url)
                callbackQueue.async { completion(.failure(failure)) }
                return
            }
            guard let url = URL(string: request.url), let scheme = url.scheme?.lowercased() else {
                callbackQueue.async { completion(.failure(.invalidURL(request.url))) }
                return
            }
            guard scheme == "http" || scheme == "https" || (scheme == "file" && settings.allowFileURLs) else {
                callbackQueue.async { completion(.failure(.refusedScheme(url: request.url))) }
                return
            }
            let host = scheme == "file" ? "" : (url.host ?? "").lowercased()
            if waiting[host] == nil || waiting[host]!.isEmpty { waitingHosts.append(host) }
            waiting[host, default: Line()].append(Waiting(request: request, host: host, callbackQueue: callbackQueue, completion: completion))
            startWaiting()
            runTimeoutIfDue()
        }
    }

    /// Starts waiting transfers while there are free slots: hosts take turns,
    /// each host keeps to `perHost` at once and `perHostSpacing` between starts.
    private func startWaiting() {
        dispatchPrecondition(condition: .onQueue(queue))
        guard multi != nil else { return }
        let now = DispatchTime.now()
        var earliest: DispatchTime?
        var index = 0
        while transfers.count < settings.concurrency, index < waitingHosts.count {
            let host = waitingHosts[index]
            if activePerHost[host, default: 0] >= settings.perHost {
                index += 1
                continue
            }
            if host != "", settings.perHostSpacing > 0, let last = lastStartPerHost[host] {
                let ready = last + settings.perHostSpacing
                if ready > now {
                    earliest = earliest.map { min($0, ready) } ?? ready
                    index += 1
                    continue
                }
            }
            let next = waiting[host]!.removeFirst()
            if waiting[host]!.isEmpty {
                waiting[host] = nil
                waitingHosts.remove(at: index)
            } else {
                // Round robin: this host goes to the back.
                waitingHosts.append(waitingHosts.remove(at: index))
            }
            start(next)
        }
        // No socket_action here: adding a handle makes curl ask for a 0 ms timeout,
        // which the handler that called this runs when it ends (runTimeoutIfDue).
        if let earliest, transfers.count < settings.concurrency { armSpacingTimer(earliest) }
    }

    private func start(_ w: Waiting) {
        let me = Unmanaged.passUnretained(self).toOpaque()
        guard let multi,
            let t = Transfer(
                request: w.request, host: w.host, settings: settings, engine: me, callbackQueue: w.callbackQueue,
                completion: w.completion)
        else {
            w.callbackQueue.async { w.completion(.failure(.transport(url: w.request.url, code: -1, reason: "cannot create a transfer"))) }
            return
        }
        transfers[t.handle] = t
        activePerHost[w.host, default: 0] += 1
        lastStartPerHost[w.host] = .now()
        curl_multi_add_handle(multi, t.handle)
    }

    private func armSpacingTimer(_ deadline: DispatchTime) {
        if let current = spacingTimerDeadline, current <= deadline { return }
        spacingTimerDeadline = deadline
        if spacingTimer == nil {
            let t = DispatchSource.makeTimerSource(queue: queue)
            t.setEventHandler { [weak self] in
                self?.spacingTimerDeadline = nil
                self?.startWaiting()
                self?.runTimeoutIfDue()
            }
            t.schedule(deadline: deadline)
            t.resume()
            spacingTimer = t
        } else {
            spacingTimer!.schedule(deadline: deadline)
        }
    }

    // MARK: curl's socket and timer callbacks

    /// `CURLMOPT_SOCKETFUNCTION`: what curl wants to hear about a socket.
    ///
    /// A socket curl no longer wants (a keep-alive connection between transfers)
    /// stays in the set as it was, so that the next transfer on it usually costs no
    /// `epoll_ctl` at all; if it becomes ready meanwhile, it leaves the set then.
    private func watch(_ socket: curl_socket_t, what: Int32) {
        dispatchPrecondition(condition: .onQueue(queue))
        if what == CURL_POLL_REMOVE {
            watched[socket]?.wanted = false
            return
        }
        if let registered = watched[socket]?.registered {
            if registered != what, fs_epoll_watch(pollSet, socket, what, 1) != 0 {
                _ = fs_epoll_watch(pollSet, socket, what, 0)  // the kernel forgot it: add it again
            }
        } else if fs_epoll_watch(pollSet, socket, what, 0) != 0 {
            _ = fs_epoll_watch(pollSet, socket, what, 1)  // already there under this number
        }
        watched[socket] = Watch(registered: what, wanted: true)
    }

    /// The epoll set is readable: every ready socket goes to curl, in one turn.
    private func socketsReady() {
        guard let multi else { return }
        readyTurns += 1
        var running: Int32 = 0
        for _ in 0..<16 {  // bounded, so the timer and new submissions get their turn
            let n = Int(fs_epoll_ready(pollSet, readySockets, readyMasks, 64))
            guard n > 0 else { break }
            for i in 0..<n {
                let socket = readySockets[i]
                guard let w = watched[socket] else { continue }  // closed earlier in this batch
                if w.wanted {
                    curl_multi_socket_action(multi, socket, readyMasks[i], &running)
                } else {
                    _ = fs_epoll_watch(pollSet, socket, CURL_POLL_REMOVE, 1)
                    watched[socket] = nil
                }
            }
            collectFinished()
            if n < 64 { break }
        }
        runTimeoutIfDue()
    }

    /// `CURLOPT_CLOSESOCKETFUNCTION`: a socket leaves the epoll set before it is closed.
    func closeSocket(_ socket: curl_socket_t) {
        dispatchPrecondition(condition: .onQueue(queue))
        if watched.removeValue(forKey: socket) != nil { _ = fs_epoll_watch(pollSet, socket, CURL_POLL_REMOVE, 1) }
        close(socket)
    }

    /// `CURLMOPT_TIMERFUNCTION`: -1 means no timeout is wanted, anything else a
    /// timeout after that many ms, replacing the one asked for before.
    ///
    /// curl calls this about twice per transfer (0 ms when a handle is added, then
    /// the transfer's own deadline), and every change to a Dispatch timer is a trip
    /// through libdispatch's manager thread. So the timer is only ever moved
    /// earlier: when it fires before curl's deadline, it is set again for that
    /// deadline. curl calls this only inside calls made by this engine's handlers,
    /// and each handler ends with `runTimeoutIfDue()`, which runs a 0 ms timeout.
    private func armTimer(_ milliseconds: Int) {
        guard milliseconds >= 0 else {
            timeoutWanted = nil  // an armed timer that fires will find nothing due
            return
        }
        let deadline = DispatchTime.now() + .milliseconds(milliseconds)
        timeoutWanted = deadline
        if milliseconds == 0 { return }
        if let armed = timerArmed, armed <= deadline { return }
        timerArmed = deadline
        timer?.schedule(deadline: deadline)
    }

    private func timerFired() {
        timerArmed = nil
        runTimeoutIfDue()
    }

    /// Runs curl's timeout if it is due, and leaves the timer set for the next one.
    private func runTimeoutIfDue() {
        guard let multi else { return }
        var running: Int32 = 0
        var rounds = 0
        while rounds < 8, let wanted = timeoutWanted, wanted <= .now() {
            timeoutWanted = nil  // curl asks again through armTimer
            curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running)
            collectFinished()
            rounds += 1
        }
        if let wanted = timeoutWanted, timerArmed.map({ $0 > wanted }) ?? true {
            timerArmed = wanted
            timer?.schedule(deadline: wanted)
        }
    }

    private func collectFinished() {
        guard let multi else { return }
        var left: Int32 = 0
        var finishedAny = false
        while let message = curl_multi_info_read(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            let code = fs_msg_result(message)
            curl_multi_remove_handle(multi, easy)
            guard let t = transfers.removeValue(forKey: easy) else { continue }
            activePerHost[t.host, default: 1] -= 1
            if activePerHost[t.host] == 0 { activePerHost[t.host] = nil }
            let result = Outcome.result(of: t, code: code, settings: settings)
            let completion = t.completion
            t.callbackQueue.async { completion(result) }
            finishedAny = true
        }
        if finishedAny { startWaiting() }
    }

    // MARK: shutdown

    /// Fails everything waiting or running with `.cancelled` and frees the multi handle.
    func shutdown() {
        queue.sync {
            guard let multi else { return }
            for (_, line) in waiting {
                for w in line.remaining { w.callbackQueue.async { w.completion(.failure(.cancelled(url: w.request.url))) } }
            }
            waiting = [:]
            waitingHosts = []
            for (easy, t) in transfers {
                curl_multi_remove_handle(multi, easy)
                let completion = t.completion
                let url = t.request.url
                t.callbackQueue.async { completion(.failure(.cancelled(url: url))) }
            }
            transfers = [:]
            curl_multi_cleanup(multi)
            self.multi = nil
            // curl_multi_cleanup closed its sockets through closeSocket; the set is closed
            // once Dispatch has let go of it (the source's cancel handler).
            watched = [:]
            pollSource?.cancel()
            pollSource = nil
            timer?.cancel()
            timer = nil
            spacingTimer?.cancel()
            spacingTimer = nil
        }
    }
}
