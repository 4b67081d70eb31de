<?php
// Workerman's ws:// client example (seeds/001), run on wsc: only the `use`
// lines and the autoload path differ from the document.
require_once is_file(__DIR__ . '/../vendor/autoload.php')
    ? __DIR__ . '/../vendor/autoload.php'
    : __DIR__ . '/../autoload.php';

use Wsc\Protocols\Ws;
use Wsc\Worker;
use Wsc\Connection\AsyncTcpConnection;

$worker = new Worker();
// When the process starts
$worker->onWorkerStart = function()
{
    // Connect to the remote WebSocket server with the ws protocol
    $ws_connection = new AsyncTcpConnection("ws://127.0.0.1:1234");
    // Send a heartbeat ping (opcode 0x9) to the WebSocket server every 55 seconds (optional)
    $ws_connection->websocketPingInterval = 55;
    // Set the HTTP headers (optional)
    $ws_connection->headers = [
        'Cookie' => 'PHPSID=82u98fjhakfusuanfnahfi; token=2hf9a929jhfihaf9i',
        'OtherKey' => 'values'
    ];
    // Set the data type (optional)
    $ws_connection->websocketType = Ws::BINARY_TYPE_BLOB; // BINARY_TYPE_BLOB for text, BINARY_TYPE_ARRAYBUFFER for binary data
    // Once the TCP connection is established by the three-way handshake (optional)
    $ws_connection->onConnect = function($connection){
        echo "tcp connected\n";
    };
    // Once the WebSocket connection is established (optional)
    $ws_connection->onWebSocketConnect = function(AsyncTcpConnection $con, $response) {
        echo $response;
        $con->send('hello');
    };
    // When a message arrives from the remote WebSocket server
    $ws_connection->onMessage = function($connection, $data){
        echo "recv: $data\n";
    };
    // When a connection error occurs, usually a failed attempt to connect to the remote WebSocket server (optional)
    $ws_connection->onError = function($connection, $code, $msg){
        echo "error: $msg\n";
    };
    // When the connection to the remote WebSocket server is lost (optional, reconnecting is recommended)
    $ws_connection->onClose = function($connection){
        echo "connection closed and try to reconnect\n";
        // If the connection is lost, try to reconnect after 1 second
        $connection->reConnect(1);
    };
    // After setting up all the callbacks above, connect
    $ws_connection->connect();
};
Worker::runAll();
